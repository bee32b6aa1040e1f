"""Evaluation tooling for the curt-reply detector: metrics, dataset loaders, reports, the fixed test split.

Not part of the product: bot, handlers, nudges and storage never import it (only the ``vraagbot
curtness-eval`` command does, lazily). Pure standard library, so it works after a plain ``pip install .``.
"""
