"""The report's sections: each function turns the release's tables into one :class:`Section`
(figures, findings, charts and tables). Numbers come from the figures layer; this layer words them."""
