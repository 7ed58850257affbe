"""An IPython extension that does nothing: the floor of ``%load_ext`` (bench_load.py)."""


def load_ipython_extension(ipython):
    pass
