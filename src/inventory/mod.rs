//! The inventory: hosts, groups and their variables, read from Ansible's INI and YAML formats.
