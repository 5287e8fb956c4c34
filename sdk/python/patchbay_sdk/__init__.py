"""The Patchbay SDK for Python plugins (componentize-py).

    from patchbay_sdk import http, errors, config, log

A plugin module defines one class per exported interface, named as
componentize-py expects (``Connector``, ``Llm``, ...). Operations return their
value; they fail by raising ``errors.ConnectorError`` values (``raise
errors.auth("...")``), which componentize-py turns into the ``connector-error``
result. ``errors.guard`` turns any other exception into a ``provider`` error
instead of a trap.
"""

CONTRACT_VERSION = "0.1.4"
"""The contract version this SDK targets; put it in the manifest."""
