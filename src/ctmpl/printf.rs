//! Go's `fmt.Sprintf`, `fmt.Sprint` and `fmt.Sprintln` over template values, for the
//! `printf`, `print` and `println` functions: verbs `%v %s %d %q %f %e %g %t %x %X %o %b %c %U
//! %T %%`, the flags `+ - # 0` and space, width and precision (also `*`), `%[n]` argument
//! indexes, and Go's inline error forms (`%!d(string=x)`, `%!s(MISSING)`, `%!(EXTRA ...)`).

use std::fmt::Write as _;

use super::value::{MAX_TEXT, Record, Value, format_float_g, format_float_g_prec, layout_e};

/// Go refuses widths and precisions beyond this.
const TOO_LARGE: usize = 1_000_000;

#[derive(Debug, Clone, Copy, Default)]
struct Flags {
    plus: bool,
    minus: bool,
    sharp: bool,
    space: bool,
    zero: bool,
    plus_v: bool,
    sharp_v: bool,
    width: Option<usize>,
    prec: Option<usize>,
}

impl Flags {
    /// Pads `s` to the width with spaces (or zeros on the left with the `0` flag).
    fn pad(&self, s: &str, out: &mut String) {
        let len = s.chars().count();
        let Some(width) = self.width.filter(|w| *w > len) else {
            out.push_str(s);
            return;
        };
        let fill = width - len;
        if self.minus {
            out.push_str(s);
            out.extend(std::iter::repeat_n(' ', fill));
        } else {
            out.extend(std::iter::repeat_n(if self.zero { '0' } else { ' ' }, fill));
            out.push_str(s);
        }
    }
}

/// `fmt.Sprint`: operands printed with `%v`, a space between two operands when neither is a
/// string.
pub(crate) fn sprint(args: &[Value]) -> String {
    let mut out = String::new();
    let mut prev_string = false;
    for (i, arg) in args.iter().enumerate() {
        let is_string = matches!(arg, Value::Str(_));
        if i > 0 && !is_string && !prev_string {
            out.push(' ');
        }
        print_arg(arg, 'v', &Flags::default(), &mut out, 0);
        prev_string = is_string;
    }
    out
}

/// `fmt.Sprintln`: operands printed with `%v`, always separated by a space, then a newline.
pub(crate) fn sprintln(args: &[Value]) -> String {
    let mut out = String::new();
    for (i, arg) in args.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        print_arg(arg, 'v', &Flags::default(), &mut out, 0);
    }
    out.push('\n');
    out
}

/// Parses a decimal number at `chars[i..]`: (value, next index, whether digits were found).
fn parse_num(chars: &[char], mut i: usize) -> (Option<usize>, usize, bool) {
    let start = i;
    let mut n: usize = 0;
    let mut too_large = false;
    while let Some(d) = chars.get(i).and_then(|c| c.to_digit(10)) {
        n = n.saturating_mul(10).saturating_add(d as usize);
        if n > TOO_LARGE {
            too_large = true;
        }
        i += 1;
    }
    if too_large {
        (None, i, true)
    } else {
        (Some(n), i, i > start)
    }
}

/// Reads `[n]` at `chars[i..]`: the new argument number and index, and whether it was one.
fn arg_number(chars: &[char], i: usize, arg_num: usize, nargs: usize) -> (usize, usize, bool, bool) {
    if chars.get(i) != Some(&'[') {
        return (arg_num, i, false, true);
    }
    let Some(close) = chars[i..].iter().position(|c| *c == ']') else {
        return (arg_num, i + 1, false, false);
    };
    let text: String = chars[i + 1..i + close].iter().collect();
    match text.parse::<usize>() {
        Ok(n) if n >= 1 && n <= nargs => (n - 1, i + close + 1, true, true),
        _ => (arg_num, i + close + 1, true, false),
    }
}

fn int_from_arg(args: &[Value], arg_num: usize) -> (Option<i64>, usize) {
    match args.get(arg_num) {
        Some(Value::Int(n)) if n.unsigned_abs() as usize <= TOO_LARGE => (Some(*n), arg_num + 1),
        Some(_) => (None, arg_num + 1),
        None => (None, arg_num),
    }
}

/// `fmt.Sprintf`.
pub(crate) fn sprintf(format: &str, args: &[Value]) -> String {
    let chars: Vec<char> = format.chars().collect();
    let mut out = String::new();
    let mut arg_num = 0;
    let mut reordered = false;
    let mut i = 0;
    while i < chars.len() {
        if out.len() > MAX_TEXT {
            break;
        }
        if chars[i] != '%' {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        i += 1;
        let mut f = Flags::default();
        while let Some(c) = chars.get(i) {
            match c {
                '#' => f.sharp = true,
                '0' => f.zero = !f.minus,
                '+' => f.plus = true,
                '-' => {
                    f.minus = true;
                    f.zero = false;
                }
                ' ' => f.space = true,
                _ => break,
            }
            i += 1;
        }
        let (n, next, after_index, good) = arg_number(&chars, i, arg_num, args.len());
        arg_num = n;
        i = next;
        reordered |= after_index;
        let mut good_arg = good;
        let mut after_index = after_index;
        // Width.
        if chars.get(i) == Some(&'*') {
            i += 1;
            let (w, next_arg) = int_from_arg(args, arg_num);
            arg_num = next_arg;
            match w {
                Some(w) if w < 0 => {
                    f.minus = true;
                    f.zero = false;
                    f.width = Some(w.unsigned_abs() as usize);
                }
                Some(w) => f.width = Some(w as usize),
                None => out.push_str("%!(BADWIDTH)"),
            }
            after_index = false;
        } else {
            let (w, next, found) = parse_num(&chars, i);
            if found {
                match w {
                    Some(w) => f.width = Some(w),
                    None => out.push_str("%!(BADWIDTH)"),
                }
                if after_index {
                    good_arg = false;
                }
            }
            i = next;
        }
        // Precision.
        if chars.get(i) == Some(&'.') {
            i += 1;
            if after_index {
                good_arg = false;
            }
            let (n, next, idx, good) = arg_number(&chars, i, arg_num, args.len());
            arg_num = n;
            i = next;
            reordered |= idx;
            after_index = idx;
            good_arg &= good;
            if chars.get(i) == Some(&'*') {
                i += 1;
                let (p, next_arg) = int_from_arg(args, arg_num);
                arg_num = next_arg;
                match p {
                    Some(p) if p >= 0 => f.prec = Some(p as usize),
                    Some(_) => {}
                    None => out.push_str("%!(BADPREC)"),
                }
                after_index = false;
            } else {
                let (p, next, _) = parse_num(&chars, i);
                f.prec = Some(p.unwrap_or(0));
                i = next;
            }
        }
        if !after_index {
            let (n, next, idx, good) = arg_number(&chars, i, arg_num, args.len());
            arg_num = n;
            i = next;
            reordered |= idx;
            good_arg &= good;
        }
        let Some(&verb) = chars.get(i) else {
            out.push_str("%!(NOVERB)");
            break;
        };
        i += 1;
        match verb {
            '%' => out.push('%'),
            _ if !good_arg => {
                let _ = write!(out, "%!{verb}(BADINDEX)");
            }
            _ if arg_num >= args.len() => {
                let _ = write!(out, "%!{verb}(MISSING)");
            }
            _ => {
                if verb == 'v' {
                    if f.sharp {
                        f.sharp = false;
                        f.sharp_v = true;
                    }
                    if f.plus {
                        f.plus = false;
                        f.plus_v = true;
                    }
                }
                print_arg(&args[arg_num], verb, &f, &mut out, 0);
                arg_num += 1;
            }
        }
    }
    if !reordered && arg_num < args.len() {
        out.push_str("%!(EXTRA ");
        for (k, arg) in args[arg_num..].iter().enumerate() {
            if k > 0 {
                out.push_str(", ");
            }
            if arg.is_nil() {
                out.push_str("<nil>");
            } else {
                out.push_str(&arg.go_type());
                out.push('=');
                print_arg(arg, 'v', &Flags::default(), &mut out, 0);
            }
        }
        out.push(')');
    }
    out
}

fn bad_verb(arg: &Value, verb: char, out: &mut String) {
    let _ = write!(out, "%!{verb}(");
    if arg.is_nil() {
        out.push_str("<nil>");
    } else {
        out.push_str(&arg.go_type());
        out.push('=');
        print_arg(arg, 'v', &Flags::default(), out, 0);
    }
    out.push(')');
}

fn print_arg(arg: &Value, verb: char, f: &Flags, out: &mut String, depth: usize) {
    if verb == 'T' {
        f.pad(&arg.go_type(), out);
        return;
    }
    match arg {
        Value::Missing | Value::Nil => match verb {
            'v' => f.pad("<nil>", out),
            _ => bad_verb(arg, verb, out),
        },
        Value::Bool(b) => match verb {
            't' | 'v' => f.pad(if *b { "true" } else { "false" }, out),
            _ => bad_verb(arg, verb, out),
        },
        Value::Int(n) => fmt_int(*n, verb, f, out, arg),
        Value::Float(x) => fmt_float(*x, verb, f, out, arg),
        Value::Str(s) => match verb {
            'v' if f.sharp_v => f.pad(&go_quote(s, false), out),
            'v' | 's' => match f.prec {
                Some(p) => f.pad(&s.chars().take(p).collect::<String>(), out),
                None => f.pad(s, out),
            },
            'q' => {
                if f.sharp && !s.contains('`') && s.chars().all(|c| c == '\t' || !c.is_control()) {
                    f.pad(&format!("`{s}`"), out);
                } else {
                    f.pad(&go_quote(s, f.plus), out);
                }
            }
            'x' | 'X' => {
                let mut hex = String::new();
                for (k, b) in s.bytes().enumerate() {
                    if f.space && k > 0 {
                        hex.push(' ');
                    }
                    if f.sharp && (f.space || k == 0) {
                        hex.push_str(if verb == 'x' { "0x" } else { "0X" });
                    }
                    let _ = if verb == 'x' {
                        write!(hex, "{b:02x}")
                    } else {
                        write!(hex, "{b:02X}")
                    };
                }
                f.pad(&hex, out);
            }
            _ => bad_verb(arg, verb, out),
        },
        Value::List(items) => {
            out.push('[');
            for (k, item) in items.iter().enumerate() {
                if k > 0 {
                    out.push(' ');
                }
                print_arg(item, verb, f, out, depth + 1);
            }
            out.push(']');
        }
        Value::Map(m) => {
            out.push_str("map[");
            for (k, (key, value)) in m.entries.iter().enumerate() {
                if k > 0 {
                    out.push(' ');
                }
                print_arg(&Value::str(key.as_str()), verb, f, out, depth + 1);
                out.push(':');
                print_arg(value, verb, f, out, depth + 1);
            }
            out.push(']');
        }
        Value::Record(r) => print_record(r, verb, f, out, depth),
    }
}

fn print_record(r: &Record, verb: char, f: &Flags, out: &mut String, depth: usize) {
    out.push_str("&{");
    for (k, (name, value)) in r.fields.iter().enumerate() {
        if k > 0 {
            out.push(' ');
        }
        if f.plus_v || f.sharp_v {
            out.push_str(name);
            out.push(':');
        }
        print_arg(value, verb, f, out, depth + 1);
    }
    out.push('}');
}

fn fmt_int(n: i64, verb: char, f: &Flags, out: &mut String, arg: &Value) {
    let (base, upper) = match verb {
        'v' | 'd' => (10, false),
        'b' => (2, false),
        'o' | 'O' => (8, false),
        'x' => (16, false),
        'X' => (16, true),
        'c' => {
            let c = u32::try_from(n).ok().and_then(char::from_u32).unwrap_or('\u{FFFD}');
            f.pad(&c.to_string(), out);
            return;
        }
        'q' => {
            let c = u32::try_from(n).ok().and_then(char::from_u32).unwrap_or('\u{FFFD}');
            f.pad(&go_quote_rune(c, f.plus), out);
            return;
        }
        'U' => {
            let mut s = format!("U+{:04X}", n);
            if f.sharp
                && let Some(c) = u32::try_from(n).ok().and_then(char::from_u32)
                && !c.is_control()
            {
                let _ = write!(s, " '{c}'");
            }
            f.pad(&s, out);
            return;
        }
        _ => {
            bad_verb(arg, verb, out);
            return;
        }
    };
    let negative = n < 0;
    let magnitude = n.unsigned_abs();
    let mut digits = match (base, upper) {
        (2, _) => format!("{magnitude:b}"),
        (8, _) => format!("{magnitude:o}"),
        (16, false) => format!("{magnitude:x}"),
        (16, true) => format!("{magnitude:X}"),
        _ => magnitude.to_string(),
    };
    let sign_len = usize::from(negative || f.plus || f.space);
    let mut min_digits = f.prec;
    if f.prec.is_none() && f.zero && !f.minus {
        min_digits = f.width.map(|w| w.saturating_sub(sign_len));
    }
    if f.prec == Some(0) && magnitude == 0 {
        digits.clear();
    }
    if let Some(min) = min_digits
        && digits.len() < min
    {
        digits = "0".repeat(min - digits.len()) + &digits;
    }
    let mut s = String::new();
    if negative {
        s.push('-');
    } else if f.plus {
        s.push('+');
    } else if f.space {
        s.push(' ');
    }
    if f.sharp {
        match base {
            2 => s.push_str("0b"),
            8 if !digits.starts_with('0') => s.push('0'),
            16 => s.push_str(if upper { "0X" } else { "0x" }),
            _ => {}
        }
    }
    if verb == 'O' {
        s.push_str("0o");
    }
    s.push_str(&digits);
    let unpadded = Flags { zero: false, ..*f };
    unpadded.pad(&s, out);
}

fn fmt_float(x: f64, verb: char, f: &Flags, out: &mut String, arg: &Value) {
    let body = match verb {
        'v' | 'g' | 'G' => match f.prec {
            Some(p) => format_float_g_prec(x.abs(), p, verb == 'G'),
            None => {
                let s = format_float_g(x.abs());
                if verb == 'G' { s.to_uppercase() } else { s }
            }
        },
        'e' | 'E' => {
            if x.is_finite() {
                let p = f.prec.unwrap_or(6);
                let s = format!("{:.*e}", p, x.abs());
                let (mantissa, exp) = s.split_once('e').unwrap_or((&s, "0"));
                let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
                let exp: i32 = exp.parse().unwrap_or(0);
                layout_e(false, &digits, exp + 1, p, verb == 'E')
            } else {
                format_float_g(x.abs())
            }
        }
        'f' | 'F' => {
            if x.is_finite() {
                format!("{:.*}", f.prec.unwrap_or(6), x.abs())
            } else {
                format_float_g(x.abs())
            }
        }
        _ => {
            bad_verb(arg, verb, out);
            return;
        }
    };
    let body = body.trim_start_matches('+').to_string();
    let sign = if x.is_nan() {
        if f.plus {
            "+"
        } else if f.space {
            " "
        } else {
            ""
        }
    } else if x.is_sign_negative() {
        "-"
    } else if f.plus {
        "+"
    } else if f.space {
        " "
    } else {
        ""
    };
    let s = format!("{sign}{body}");
    match f.width {
        Some(width) if f.zero && !f.minus && x.is_finite() && width > s.len() => {
            out.push_str(sign);
            out.extend(std::iter::repeat_n('0', width - s.len()));
            out.push_str(&body);
        }
        _ => Flags { zero: false, ..*f }.pad(&s, out),
    }
}

/// Go's `strconv.Quote` (or `QuoteToASCII` when `ascii`).
pub(crate) fn go_quote(s: &str, ascii: bool) -> String {
    let mut out = String::from('"');
    for c in s.chars() {
        quote_char(c, '"', ascii, &mut out);
    }
    out.push('"');
    out
}

fn go_quote_rune(c: char, ascii: bool) -> String {
    let mut out = String::from('\'');
    quote_char(c, '\'', ascii, &mut out);
    out.push('\'');
    out
}

fn quote_char(c: char, quote: char, ascii: bool, out: &mut String) {
    match c {
        c if c == quote => {
            out.push('\\');
            out.push(c);
        }
        '\\' => out.push_str("\\\\"),
        '\u{7}' => out.push_str("\\a"),
        '\u{8}' => out.push_str("\\b"),
        '\u{c}' => out.push_str("\\f"),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        '\u{b}' => out.push_str("\\v"),
        c if (c as u32) < 0x20 || c as u32 == 0x7f => {
            let _ = write!(out, "\\x{:02x}", c as u32);
        }
        c if c.is_ascii() => out.push(c),
        c if !ascii && !c.is_control() && (!c.is_whitespace()) => out.push(c),
        c if (c as u32) < 0x10000 => {
            let _ = write!(out, "\\u{:04x}", c as u32);
        }
        c => {
            let _ = write!(out, "\\U{:08x}", c as u32);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> Value {
        Value::str(v)
    }

    #[test]
    fn verbs_like_go() {
        let cases: Vec<(&str, Vec<Value>, &str)> = vec![
            ("%s:%d", vec![s("a"), Value::Int(8080)], "a:8080"),
            (
                "%5d|%-5d|%05d",
                vec![Value::Int(42), Value::Int(42), Value::Int(-42)],
                "   42|42   |-0042",
            ),
            (
                "%x %X %o %b %#x",
                vec![
                    Value::Int(255),
                    Value::Int(255),
                    Value::Int(8),
                    Value::Int(5),
                    Value::Int(255),
                ],
                "ff FF 10 101 0xff",
            ),
            (
                "%q %v %t",
                vec![s("a\"b\n"), Value::Bool(true), Value::Bool(false)],
                "\"a\\\"b\\n\" true false",
            ),
            (
                "%f %.2f %e %g",
                vec![
                    Value::Float(1.5),
                    Value::Float(1.23456),
                    Value::Float(1234.5678),
                    Value::Float(0.000012),
                ],
                "1.500000 1.23 1.234568e+03 1.2e-05",
            ),
            (
                "%8.3f|%-8.2f|%+.1f",
                vec![Value::Float(1.23456), Value::Float(2.5), Value::Float(2.0)],
                "   1.235|2.50    |+2.0",
            ),
            ("%v", vec![Value::strings(["a", "b"])], "[a b]"),
            ("%q", vec![Value::strings(["a", "b"])], "[\"a\" \"b\"]"),
            ("%d", vec![s("x")], "%!d(string=x)"),
            ("%d %d", vec![Value::Int(1)], "1 %!d(MISSING)"),
            ("%d", vec![Value::Int(1), s("x")], "1%!(EXTRA string=x)"),
            ("%s", vec![Value::Missing], "%!s(<nil>)"),
            ("%v", vec![Value::Missing], "<nil>"),
            ("100%%", vec![], "100%"),
            ("%", vec![], "%!(NOVERB)"),
            ("%*d", vec![Value::Int(4), Value::Int(7)], "   7"),
            ("%[2]s %[1]s", vec![s("a"), s("b")], "b a"),
            ("%.1s|%6s|%-6s|", vec![s("hello"), s("ab"), s("ab")], "h|    ab|ab    |"),
            (
                "%c%c %U",
                vec![Value::Int(72), Value::Int(105), Value::Int(0x1F600)],
                "Hi U+1F600",
            ),
            ("%T %T", vec![Value::Int(1), s("x")], "int string"),
        ];
        for (format, args, want) in cases {
            assert_eq!(sprintf(format, &args), want, "{format}");
        }
    }

    #[test]
    fn print_spacing_like_go() {
        assert_eq!(sprint(&[s("a"), s("b")]), "ab");
        assert_eq!(sprint(&[Value::Int(1), Value::Int(2), s("x"), Value::Int(3)]), "1 2x3");
        assert_eq!(sprintln(&[s("a"), Value::Int(1)]), "a 1\n");
        assert_eq!(sprint(&[Value::Missing]), "<nil>");
    }
}
