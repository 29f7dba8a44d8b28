//! The municipality (tenant) and its identifier, the 6-digit local
//! government code (全国地方公共団体コード) whose last digit is a check digit.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A validated local government code, e.g. `131121` (Setagaya) or `082350`
/// (Tsukubamirai). The only way in is [`MunicipalityCode::parse`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MunicipalityCode([u8; 6]);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MunicipalityCodeError {
    #[error("a municipality code has exactly 6 digits")]
    Format,
    #[error("the check digit of the municipality code does not match")]
    CheckDigit,
}

/// The check digit of the first five digits: the weighted sum with weights
/// 6,5,4,3,2, then 11 minus its remainder mod 11, keeping the last digit
/// (remainder 0 gives 1, remainder 1 gives 0).
pub fn check_digit(first_five: [u8; 5]) -> u8 {
    let sum: u32 = first_five.iter().zip([6u32, 5, 4, 3, 2]).map(|(d, w)| u32::from(*d) * w).sum();
    ((11 - sum % 11) % 10) as u8
}

impl MunicipalityCode {
    pub fn parse(s: &str) -> Result<Self, MunicipalityCodeError> {
        let s = s.trim();
        let bytes = s.as_bytes();
        if bytes.len() != 6 || !bytes.iter().all(u8::is_ascii_digit) {
            return Err(MunicipalityCodeError::Format);
        }
        let mut digits = [0u8; 6];
        for (d, b) in digits.iter_mut().zip(bytes) {
            *d = b - b'0';
        }
        let first_five = [digits[0], digits[1], digits[2], digits[3], digits[4]];
        if check_digit(first_five) != digits[5] {
            return Err(MunicipalityCodeError::CheckDigit);
        }
        Ok(Self(digits))
    }

    /// The two-digit prefecture code (13 = Tokyo, 08 = Ibaraki).
    pub fn prefecture(&self) -> u8 {
        self.0[0] * 10 + self.0[1]
    }
}

impl fmt::Display for MunicipalityCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for d in self.0 {
            write!(f, "{d}")?;
        }
        Ok(())
    }
}

impl Serialize for MunicipalityCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for MunicipalityCode {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_codes_parse() {
        for code in ["131121", "082350", "011002", "271004"] {
            assert_eq!(MunicipalityCode::parse(code).unwrap().to_string(), code);
        }
        assert_eq!(MunicipalityCode::parse("131121").unwrap().prefecture(), 13);
    }

    #[test]
    fn wrong_check_digit_and_format_are_refused() {
        assert_eq!(MunicipalityCode::parse("131122"), Err(MunicipalityCodeError::CheckDigit));
        assert_eq!(MunicipalityCode::parse("13112"), Err(MunicipalityCodeError::Format));
        assert_eq!(MunicipalityCode::parse("13112a"), Err(MunicipalityCodeError::Format));
        assert_eq!(MunicipalityCode::parse("１３１１２１"), Err(MunicipalityCodeError::Format));
    }

    proptest! {
        #[test]
        fn exactly_one_check_digit_fits(first in proptest::array::uniform5(0u8..10)) {
            let prefix: String = first.iter().map(|d| char::from(b'0' + d)).collect();
            let ok: Vec<u8> = (0..10)
                .filter(|c| MunicipalityCode::parse(&format!("{prefix}{c}")).is_ok())
                .collect();
            prop_assert_eq!(ok, vec![check_digit(first)]);
        }
    }
}
