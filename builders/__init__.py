"""How tszoo's models are made: Keras functional builders, training loops, and publishing into savedmodels/.

This package imports :mod:`tszoo`; :mod:`tszoo` never imports it, so loading a published model needs none of it.
"""
