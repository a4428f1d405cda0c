//! Behaviour bgrun copies from other programs, each implemented once: Python's standard library
//! (`json.dumps`, `repr(float)`, `repr` and `ast.literal_eval` of literals, `shlex`,
//! `fnmatch`), Ansible's boolean words and checksum algorithms, the JSON string escaping Python
//! and Go share, and Go's HTML escaping.

pub mod ansible;
pub mod checksum;
pub mod crypt;
pub mod html;
pub mod json;
pub mod literal;
pub mod python;
pub mod random;
