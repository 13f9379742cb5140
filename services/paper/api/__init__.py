"""The routes: Binance's spot (``/api/v3``) and USDⓈ-M futures (``/fapi``) subsets, the
operator's ``/admin``, and the request plumbing they share (fault gate, signed requests)."""
