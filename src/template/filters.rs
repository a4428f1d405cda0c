//! The Ansible filters that minijinja does not have built in.

/// Adds the Ansible filters and tests.
pub fn register(_env: &mut minijinja::Environment<'_>) {}
