"""Red-flag indicators: pure functions of the data tables, one value per entity.

:mod:`riskmodel.indicators.screens` holds the bid-rigging screens (statistics
of the bids within a tender) that the indicator catalogue exposes as
``BID-…`` indicators.
"""
