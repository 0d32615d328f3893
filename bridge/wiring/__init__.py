"""The composition root's builders (bridge.bootstrap.build calls them): adapters, services, inbound, workers, and the
lifecycle of the built bridge. Only this package and bootstrap.py know every concrete class."""
