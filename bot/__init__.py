"""syndbot: watch a news site's feeds, publish platform-sized posts to its channels."""

__version__ = "0.1.0"
