"""The Asana REST API emulator, split by noun; `bridge.sandbox.asana_emulator` is the public entry point."""
