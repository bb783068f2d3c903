//! Why a siting cannot be done: each case names what is wrong and what was measured.

/// A siting that cannot be carried out as asked.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum SiteError {
    /// There are no candidate sites at all.
    #[error("no candidate sites: {0}")]
    NoCandidates(String),
    /// No candidate site reaches any demand point that still lacks the category.
    #[error(
        "none of the {candidates} candidate sites reaches a demand point within the walk \
         ({off_network} of them are off the street network): {detail}"
    )]
    CandidatesOutOfReach {
        /// Candidates given or generated.
        candidates: usize,
        /// Candidates that could not be placed on the street network.
        off_network: usize,
        /// What the demand points are like (already covered, or too far).
        detail: String,
    },
    /// A category named for siting is neither a category of the profile nor offered by any
    /// facility.
    #[error(
        "unknown category {name:?}: it is not a category (key or alias) of profile {profile} and \
         no facility has it; the profile's categories are: {known}"
    )]
    UnknownCategory {
        /// The name given.
        name: String,
        /// The profile's name.
        profile: String,
        /// The profile's category keys, comma-separated.
        known: String,
    },
    /// No set of candidates reaches the goal.
    #[error("{goal} cannot be reached with these candidates: {best}")]
    GoalUnreachable {
        /// The goal, in words.
        goal: String,
        /// The best that all candidates together reach.
        best: String,
    },
    /// More new sites asked for than there are candidates.
    #[error("{asked} new sites asked for, but there are only {candidates} candidate sites")]
    TooManySites {
        /// Sites asked for.
        asked: usize,
        /// Candidates.
        candidates: usize,
    },
    /// A budget asked for without candidate costs, or one below the cheapest site.
    #[error("budget {budget}: {reason}")]
    Budget {
        /// The budget given.
        budget: f64,
        /// What is wrong.
        reason: String,
    },
    /// A goal value out of range.
    #[error("goal {value}: {reason}")]
    Goal {
        /// The value given.
        value: String,
        /// What is wrong.
        reason: String,
    },
    /// Candidates of a file cannot be used: the file and each bad feature.
    #[error("{file}: {count} unusable candidate feature{s}; the first: {first}", s = if *count == 1 { "" } else { "s" })]
    BadCandidates {
        /// The file.
        file: String,
        /// Bad features.
        count: usize,
        /// The first problem (feature index, property, problem).
        first: String,
    },
}
