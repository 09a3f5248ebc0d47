"""yinji-heatmap: an example of adding an app to Yinji from outside its source tree.

The package registers one app, `product-heatmap` (`yinji_heatmap.app:APP`), in the
`yinji.apps` entry-point group; a node that has the package installed lists and runs it.
"""

__version__ = "1.0.0"
