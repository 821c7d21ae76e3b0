//! What the integration tests share: running the binary against a fresh store.
