//! Recovery codes: 80 random bits each, shown once as `XXXX-XXXX-XXXX-XXXX` (base32).
//!
//! Stored as plain SHA-256, not argon2: a code is high-entropy random data, not a
//! human-chosen secret, so a slow hash adds nothing against guessing offline (2^80 tries),
//! while a fast deterministic hash lets a typed code be found (and spent) with one indexed,
//! atomic update instead of verifying every code of the account.
use rand::RngCore;

/// How many codes a set has.
pub const SET_SIZE: usize = 10;

const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// A new set of codes, as shown to the person.
pub fn new_set() -> Vec<String> {
    (0..SET_SIZE).map(|_| new_code()).collect()
}

fn new_code() -> String {
    let mut bytes = [0u8; 10];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    // 80 bits → 16 base32 characters.
    let mut bits: u128 = 0;
    for b in bytes {
        bits = (bits << 8) | b as u128;
    }
    let chars: Vec<u8> = (0..16)
        .rev()
        .map(|i| ALPHABET[((bits >> (i * 5)) & 31) as usize])
        .collect();
    chars
        .chunks(4)
        .map(|c| std::str::from_utf8(c).expect("ASCII"))
        .collect::<Vec<_>>()
        .join("-")
}

/// The stored form of a code as typed: case, spaces and dashes do not matter.
pub fn hash(typed: &str) -> Option<String> {
    let norm: String = typed
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    (norm.len() == 16 && norm.bytes().all(|b| ALPHABET.contains(&b))).then(|| crate::store::hash_secret(&norm))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_distinct_and_hash_the_same_however_typed() {
        let set = new_set();
        assert_eq!(set.len(), SET_SIZE);
        let unique: std::collections::BTreeSet<_> = set.iter().collect();
        assert_eq!(unique.len(), SET_SIZE);
        let code = &set[0];
        assert_eq!(code.len(), 19);
        let h = hash(code).unwrap();
        assert_eq!(hash(&code.to_lowercase()), Some(h.clone()));
        assert_eq!(hash(&code.replace('-', " ")), Some(h));
        assert_eq!(hash("123456"), None, "a TOTP code is no recovery code");
    }
}
