//! Amounts from user text, exactly: `1.5` SOL, lamports, or token amounts with the mint's
//! decimals. No floating point anywhere.

use crate::SdkError;

/// Decimals of SOL (1 SOL = 10^9 lamports).
pub const SOL_DECIMALS: u8 = 9;

fn err(input: &str, reason: &'static str) -> SdkError {
    SdkError::Amount {
        input: input.to_string(),
        reason,
    }
}

/// Parses a decimal amount with at most `decimals` fractional digits into base units.
/// Refuses signs, exponents, empty parts, too many decimals and overflow.
pub fn parse_units(input: &str, decimals: u8) -> Result<u64, SdkError> {
    let text = input.trim();
    if text.is_empty() {
        return Err(err(input, "empty"));
    }
    if text.starts_with('-') {
        return Err(err(input, "negative"));
    }
    let (whole, frac) = match text.split_once('.') {
        Some((w, f)) => (w, f),
        None => (text, ""),
    };
    if whole.is_empty() && frac.is_empty() {
        return Err(err(input, "no digits"));
    }
    if !whole.chars().all(|c| c.is_ascii_digit()) || !frac.chars().all(|c| c.is_ascii_digit()) {
        return Err(err(input, "not a decimal number"));
    }
    if frac.len() > usize::from(decimals) {
        return Err(err(input, "more decimal places than the unit has"));
    }
    let scale = 10u64
        .checked_pow(u32::from(decimals))
        .ok_or_else(|| err(input, "too many decimals"))?;
    let whole: u64 = if whole.is_empty() {
        0
    } else {
        whole.parse().map_err(|_| err(input, "too large"))?
    };
    let mut frac_units: u64 = 0;
    for (i, c) in frac.chars().enumerate() {
        let digit = u64::from(c as u8 - b'0');
        let place = 10u64.pow(u32::from(decimals) - 1 - i as u32);
        frac_units += digit * place;
    }
    whole
        .checked_mul(scale)
        .and_then(|w| w.checked_add(frac_units))
        .ok_or_else(|| err(input, "too large"))
}

/// Parses SOL (`1.5`) into lamports.
pub fn parse_sol(input: &str) -> Result<u64, SdkError> {
    parse_units(input, SOL_DECIMALS)
}

/// Formats base units with `decimals` places, trimming trailing zeros (`1500000000, 9` →
/// `"1.5"`).
pub fn format_units(units: u64, decimals: u8) -> String {
    let scale = 10u64.pow(u32::from(decimals));
    let (whole, frac) = (units / scale, units % scale);
    if frac == 0 {
        return whole.to_string();
    }
    let frac = format!("{frac:0width$}", width = usize::from(decimals));
    format!("{whole}.{}", frac.trim_end_matches('0'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_what_users_type() {
        assert_eq!(parse_sol("1.5").unwrap(), 1_500_000_000);
        assert_eq!(parse_sol("0.000000001").unwrap(), 1);
        assert_eq!(parse_sol(".5").unwrap(), 500_000_000);
        assert_eq!(parse_sol("2").unwrap(), 2_000_000_000);
        assert_eq!(parse_sol("2.").unwrap(), 2_000_000_000);
        assert_eq!(parse_units("12.34", 2).unwrap(), 1_234);
        assert_eq!(parse_units("7", 0).unwrap(), 7);
    }

    #[test]
    fn refuses_bad_amounts() {
        for bad in [
            "",
            "-1",
            "1.0000000001",
            "1e9",
            "abc",
            ".",
            "1.2.3",
            "18446744074",
            " - 1",
        ] {
            assert!(parse_sol(bad).is_err(), "{bad:?}");
        }
        assert!(parse_units("1.5", 0).is_err());
        assert!(parse_units("18446744073709551616", 0).is_err());
        assert_eq!(parse_units("18446744073709551615", 0).unwrap(), u64::MAX);
    }

    proptest! {
        #[test]
        fn format_then_parse_round_trips(units in any::<u64>(), decimals in 0u8..=9) {
            prop_assert_eq!(parse_units(&format_units(units, decimals), decimals).unwrap(), units);
        }
    }
}
