"""The paper exchange: enough of Binance's spot REST API for ccxt, with simulated fills."""
