"""The domain: plain Python use cases over the models. Never imports reflex."""
