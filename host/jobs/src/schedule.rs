//! When a failed push is tried again: a published schedule like Svix's,
//! jittered, with a receiver's `Retry-After` honoured when it asks for
//! longer; after the last retry the push is a dead letter.

use std::time::Duration;

/// The delays before each retry.
#[derive(Debug, Clone, PartialEq)]
pub struct Schedule {
    /// Delay before retry 1, 2, ...; the push dies after the last.
    pub delays: Vec<Duration>,
    /// Each delay is moved by up to this fraction either way (0.2: ±20 %).
    pub jitter: f64,
}

impl Default for Schedule {
    /// Immediately, then 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h: eight
    /// attempts over about a day and a day and a half.
    fn default() -> Self {
        let s = Duration::from_secs;
        Self {
            delays: vec![s(5), s(300), s(1800), s(7200), s(18_000), s(36_000), s(36_000)],
            jitter: 0.2,
        }
    }
}

impl Schedule {
    /// The wait before the next attempt, after `attempts` attempts failed;
    /// `None` when there is no retry left. A `Retry-After` longer than the
    /// schedule's delay is honoured.
    pub fn next(&self, attempts: u32, retry_after: Option<Duration>) -> Option<Duration> {
        let delay = *self.delays.get(attempts.checked_sub(1)? as usize)?;
        let spread = delay.as_secs_f64() * self.jitter.clamp(0.0, 1.0);
        let jittered =
            Duration::from_secs_f64((delay.as_secs_f64() + spread * (2.0 * rand::random::<f64>() - 1.0)).max(0.0));
        Some(match retry_after {
            Some(asked) if asked > jittered => asked,
            _ => jittered,
        })
    }

    /// How many attempts a push gets in all.
    pub fn attempts(&self) -> u32 {
        self.delays.len() as u32 + 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn follows_the_delays_with_jitter_then_gives_up() {
        let schedule = Schedule::default();
        assert_eq!(schedule.attempts(), 8);
        for _ in 0..100 {
            let first = schedule.next(1, None).unwrap();
            assert!(
                first >= Duration::from_secs(4) && first <= Duration::from_secs(6),
                "{first:?}"
            );
            let last = schedule.next(7, None).unwrap();
            assert!(last >= Duration::from_secs(28_800) && last <= Duration::from_secs(43_200));
        }
        assert_eq!(schedule.next(8, None), None, "eight attempts, then a dead letter");
        assert_eq!(schedule.next(0, None), None);
    }

    #[test]
    fn a_longer_retry_after_wins() {
        let schedule = Schedule {
            delays: vec![Duration::from_secs(1)],
            jitter: 0.0,
        };
        assert_eq!(
            schedule.next(1, Some(Duration::from_secs(30))),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            schedule.next(1, Some(Duration::from_millis(10))),
            Some(Duration::from_secs(1))
        );
    }
}
