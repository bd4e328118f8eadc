//! Quantities in words people read: one formatter for the window, the CLI and the report
//! card, so a payload limit reads the same everywhere.

/// A byte count in binary units: `512 B`, `64 KiB`, `15.98 MiB`, `2.5 GiB` (at most two
/// decimals, trailing zeros dropped).
pub fn bytes(n: u64) -> String {
    const K: f64 = 1024.0;
    let f = n as f64;
    let (value, unit) = if f < K {
        return format!("{n} B");
    } else if f < K * K {
        (f / K, "KiB")
    } else if f < K * K * K {
        (f / (K * K), "MiB")
    } else {
        (f / (K * K * K), "GiB")
    };
    let digits = format!("{value:.2}");
    format!("{} {unit}", digits.trim_end_matches('0').trim_end_matches('.'))
}

#[cfg(test)]
mod tests {
    use super::bytes;

    #[test]
    fn bytes_in_binary_units() {
        assert_eq!(bytes(0), "0 B");
        assert_eq!(bytes(1023), "1023 B");
        assert_eq!(bytes(1024), "1 KiB");
        assert_eq!(bytes(1536), "1.5 KiB");
        assert_eq!(bytes(16 * 1024 * 1024 - 20 * 1024), "15.98 MiB");
        assert_eq!(bytes(5 * 1024 * 1024), "5 MiB");
        assert_eq!(bytes(5 * 1024 * 1024 * 1024 / 2), "2.5 GiB");
    }
}
