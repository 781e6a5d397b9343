"""Training EnCodec-style models: data, losses, discriminator, balancer and the training loop.

Never imported by :mod:`codec` itself, so the app and the CLI do not carry training code.
"""
