//! Password rules. The hashing itself (argon2id) lives at the edge; here is
//! only what makes a password acceptable.

/// Passwords people choose most often, plus the product's own words. A
/// password equal to one of these (ignoring case) is refused.
const COMMON: &[&str] = &[
    "password",
    "password1",
    "password123",
    "passw0rd",
    "12345678",
    "123456789",
    "1234567890",
    "123123123",
    "11111111",
    "00000000",
    "qwertyuiop",
    "qwerty123",
    "iloveyou",
    "abc12345",
    "abcd1234",
    "1q2w3e4r",
    "1qaz2wsx",
    "letmein123",
    "welcome123",
    "admin123",
    "administrator",
    "sunshine1",
    "princess1",
    "football1",
    "baseball1",
    "dragon123",
    "monkey123",
    "trustno1",
    "changeme",
    "changeme123",
    "qwerty12345",
    "asdfghjkl",
    "zxcvbnm123",
    "aaaaaaaa",
    "87654321",
    "a1b2c3d4",
    "p@ssw0rd",
    "tsunagu",
    "tsunagu123",
    "tsunagu2026",
    "setagaya",
    "tsukubamirai",
    "hokenshi",
    "akachan",
    "sakura123",
    "doraemon",
    "pikachu1",
    "hello123",
    "superman1",
    "computer1",
    "internet1",
    "starwars1",
    "whatever1",
    "mustang1",
    "shadow123",
    "master123",
    "michael1",
    "jennifer1",
    "jordan23",
    "hunter22",
    "ginger123",
    "pokemon1",
    "soccer123",
];

pub const MIN_CHARS: usize = 12;
pub const MAX_CHARS: usize = 128;

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    #[error("password_too_short")]
    TooShort,
    #[error("password_too_long")]
    TooLong,
    #[error("password_too_common")]
    TooCommon,
}

impl PasswordError {
    pub fn code(self) -> &'static str {
        match self {
            PasswordError::TooShort => "password_too_short",
            PasswordError::TooLong => "password_too_long",
            PasswordError::TooCommon => "password_too_common",
        }
    }
}

/// Checks a new password. Length counts characters, so a Japanese
/// passphrase is as welcome as a Latin one.
pub fn check_new_password(password: &str) -> Result<(), PasswordError> {
    let n = password.chars().count();
    if n > MAX_CHARS {
        return Err(PasswordError::TooLong);
    }
    let lower = password.to_lowercase();
    // Only the list and repetitions of one character are refused outright.
    let one_char = lower.chars().next().is_some_and(|first| lower.chars().all(|c| c == first));
    if COMMON.contains(&lower.as_str()) || one_char {
        return Err(PasswordError::TooCommon);
    }
    if n < MIN_CHARS {
        return Err(PasswordError::TooShort);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules() {
        assert_eq!(check_new_password("short"), Err(PasswordError::TooShort));
        assert_eq!(check_new_password("Password123"), Err(PasswordError::TooCommon));
        assert_eq!(check_new_password("aaaaaaaaaaaaaaa"), Err(PasswordError::TooCommon));
        assert_eq!(check_new_password(&"x1".repeat(65)), Err(PasswordError::TooLong));
        assert_eq!(check_new_password("correct horse battery"), Ok(()));
        assert_eq!(check_new_password("すやすや赤ちゃんと散歩"), Err(PasswordError::TooShort));
        assert_eq!(check_new_password("すやすや赤ちゃんと朝のお散歩"), Ok(()));
    }
}
