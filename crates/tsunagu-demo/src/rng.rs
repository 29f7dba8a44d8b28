//! A tiny deterministic PRNG (SplitMix64, Steele, Lea & Flood 2014). Good
//! enough for demo data, the same on every platform, no dependency.

#[derive(Debug, Clone)]
pub struct Rng(u64);

/// The SplitMix64 output function: a strong 64-bit mixer.
pub fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// An independent stream for one item (a family) of one series (a
    /// municipality): the same inputs always give the same stream, whatever
    /// was drawn for other items.
    pub fn derive(seed: u64, series: u64, item: u64) -> Self {
        Self::new(mix(seed ^ mix(series.wrapping_add(0x5EED)) ^ mix(item.wrapping_mul(0x9E37_79B9_7F4A_7C15))))
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix(self.0)
    }

    /// Uniform in `0..n` (0 when `n` is 0), by multiply-shift.
    pub fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// Uniform in `lo..=hi` (`lo` when the range is empty).
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        if hi <= lo {
            return lo;
        }
        let width = hi.abs_diff(lo).saturating_add(1);
        lo.wrapping_add(self.below(width) as i64)
    }

    /// True with probability `k`/1000.
    pub fn per_mille(&mut self, k: u64) -> bool {
        self.below(1000) < k
    }

    /// Uniform index into a slice of length `len` (0 when empty).
    pub fn index(&mut self, len: usize) -> usize {
        self.below(len as u64) as usize
    }

    /// An index drawn with the given weights (0 when they are all zero).
    pub fn weighted<I>(&mut self, weights: I) -> usize
    where
        I: IntoIterator<Item = u32>,
        I::IntoIter: Clone,
    {
        let weights = weights.into_iter();
        let total: u64 = weights.clone().map(u64::from).sum();
        let mut x = self.below(total);
        for (i, w) in weights.enumerate() {
            let w = u64::from(w);
            if x < w {
                return i;
            }
            x -= w;
        }
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_splitmix64_reference() {
        // Reference outputs of SplitMix64 seeded with 0.
        let mut r = Rng::new(0);
        assert_eq!(r.next_u64(), 0xE220_A839_7B1D_CDAF);
        assert_eq!(r.next_u64(), 0x6E78_9E6A_A1B9_65F4);
        assert_eq!(r.next_u64(), 0x06C4_5D18_8009_454F);
    }

    #[test]
    fn same_seed_same_stream_other_seed_other_stream() {
        let a: Vec<u64> = {
            let mut r = Rng::new(42);
            (0..100).map(|_| r.next_u64()).collect()
        };
        let b: Vec<u64> = {
            let mut r = Rng::new(42);
            (0..100).map(|_| r.next_u64()).collect()
        };
        let c: Vec<u64> = {
            let mut r = Rng::new(43);
            (0..100).map(|_| r.next_u64()).collect()
        };
        assert_eq!(a, b);
        assert_ne!(a, c);
        let d1 = Rng::derive(7, 1, 5).next_u64();
        assert_eq!(d1, Rng::derive(7, 1, 5).next_u64());
        assert_ne!(d1, Rng::derive(7, 2, 5).next_u64());
        assert_ne!(d1, Rng::derive(7, 1, 6).next_u64());
        assert_ne!(d1, Rng::derive(8, 1, 5).next_u64());
    }

    #[test]
    fn ranges_stay_inside_and_cover() {
        let mut r = Rng::new(1);
        let mut seen = [false; 7];
        for _ in 0..10_000 {
            let x = r.range(-3, 3);
            assert!((-3..=3).contains(&x));
            seen[(x + 3) as usize] = true;
            assert!(r.below(10) < 10);
        }
        assert!(seen.iter().all(|s| *s));
        assert_eq!(r.range(5, 5), 5);
        assert_eq!(r.range(5, 1), 5);
        assert_eq!(r.below(0), 0);
        assert_eq!(r.weighted([0, 0]), 0);
        for _ in 0..1000 {
            assert_eq!(r.weighted([0, 3, 0]), 1);
        }
        let hits = (0..10_000).filter(|_| r.per_mille(100)).count();
        assert!((800..1200).contains(&hits), "{hits}");
    }
}
