"""The interactive explorer (``usdai-sim app``, optional extra ``usdai-sim[app]``): a Solara web app on 127.0.0.1.

``logic`` holds everything that is not drawing (grouped parameters, edits, validation, saving, running) and is
tested without a browser; ``page`` is the Solara user interface on top of it. Both call the public API only:
``load_scenario``, ``simulate``, ``Results``, ``write_report`` and the scenario schema with its field docs.
"""
