"""Binance USDⓈ-M futures (``/fapi``): perpetuals with leverage, positions and algo orders."""
