//! Limits on text the user hands in: how long a name may be before any matching is done on it,
//! and how much of a user's input an error message may quote.
//!
//! Closest-name matching costs time proportional to the product of the lengths compared, and an
//! error that echoes its input whole grows with it; both are bounded here, once, for every
//! front end.

/// Longest model or GPU name (characters) that is matched against the catalogs. Hugging Face
/// repo ids are at most 96 characters (`org` and `name` of up to 96 each with the slash, in
/// practice far fewer); catalog names are under 64.
pub const MAX_NAME_CHARS: usize = 256;

/// Most characters of a user's input an error message quotes.
pub const QUOTE_CHARS: usize = 64;

/// True when `name` is longer than [`MAX_NAME_CHARS`] characters (counted without walking more
/// of the string than needed).
pub fn name_too_long(name: &str) -> bool {
    name.len() > MAX_NAME_CHARS && name.chars().nth(MAX_NAME_CHARS).is_some()
}

/// `input` as an error message may quote it: whole when short, else its first
/// [`QUOTE_CHARS`] characters followed by `… (N characters)`. Control characters are escaped.
pub fn quote(input: &str) -> String {
    let mut out: String = input
        .chars()
        .take(QUOTE_CHARS)
        .flat_map(char::escape_debug)
        .collect();
    if input.len() > QUOTE_CHARS && input.chars().nth(QUOTE_CHARS).is_some() {
        out.push_str(&format!("… ({} characters)", input.chars().count()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_input_is_quoted_whole() {
        assert_eq!(quote("H100"), "H100");
        assert!(!name_too_long("meta-llama/Llama-3.1-8B"));
    }

    #[test]
    fn long_input_is_cut_to_a_prefix() {
        let long = "x".repeat(1_000_000);
        let q = quote(&long);
        assert!(q.len() < 120, "{q}");
        assert!(q.ends_with("(1000000 characters)"));
        assert!(name_too_long(&long));
        assert!(!name_too_long(&"é".repeat(MAX_NAME_CHARS)));
        assert_eq!(quote("a\nb"), "a\\nb");
    }
}
