//! Ansible's boolean words: `boolean()` from `module_utils/parsing/convert_bool.py`, which module
//! arguments of type `bool` (`check_type_bool`), `is truthy(convert_bool=true)` and, non-strict,
//! the `| bool` filter go through.

/// `ansible.module_utils.parsing.convert_bool.boolean(text)`, the words Ansible accepts for a
/// module argument of type `bool` (`check_type_bool`) and for `convert_bool=True`: `y`, `yes`,
/// `on`, `1`, `true`, `t` and `n`, `no`, `off`, `0`, `false`, `f`, in any case and with
/// surrounding whitespace. `None` where Ansible raises "is not a valid boolean".
pub fn boolean(text: &str) -> Option<bool> {
    match text.trim().to_lowercase().as_str() {
        "y" | "yes" | "on" | "1" | "true" | "t" => Some(true),
        "n" | "no" | "off" | "0" | "false" | "f" => Some(false),
        _ => None,
    }
}

/// `boolean()` of a number: `1` and `1.0` are true, `0` and `0.0` false, others invalid.
pub fn boolean_number(n: f64) -> Option<bool> {
    if n == 1.0 {
        Some(true)
    } else if n == 0.0 {
        Some(false)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_as_ansible_takes_them() {
        for word in ["y", "YES", " on ", "1", "True", "t"] {
            assert_eq!(boolean(word), Some(true), "{word}");
        }
        for word in ["n", "No", "OFF", "0", "false", "F"] {
            assert_eq!(boolean(word), Some(false), "{word}");
        }
        assert_eq!(boolean(""), None);
        assert_eq!(boolean("1.0"), None);
        assert_eq!(boolean_number(1.0), Some(true));
        assert_eq!(boolean_number(2.0), None);
    }
}
