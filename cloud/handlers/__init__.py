"""Lambda entry points: each turns an AWS event into a call on the runtime, and nothing more."""
