"""Pure decisions: which events a channel wants (`kinds`), what an event says (`notices`), how
notices read in each channel's markup and how several fold into one message (`markup`). No I/O.

A `Notice` is what one event says, as plain text pieces (a title, a one-line summary, labelled
facts); `render` escapes each piece for the channel's markup, so nothing a trader or an
exchange wrote (a symbol, a reason) can inject markup. Several notices due together on one
channel become one message (`render` of several): "12 orders filled (BTCUSDT +0.1, …)".
"""
