"""The delivery engine: what happens to an item between the feed and the publisher.

``intake`` (with ``catchup``) records what a poll found and queues deliveries; ``gate``
admits a due delivery (``filters``, ``approval``), ``budget`` decides when it may go,
``delivery`` and ``retry`` decide what a failed or interrupted send becomes; ``queue`` is
the review queue's operations and ``polling`` runs many feed polls at once. Pure rules and
store calls only: ``bot.pipeline`` is the one module that wires them to feeds, compose
and publishers.
"""
