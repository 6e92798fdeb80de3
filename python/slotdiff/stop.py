"""Stop policies for slotdiff.denoise (slotdiff/stop/policies.hpp).

Each is read before a step, from the sequence's step report; a true answer ends that sequence
before the step is applied. Combine with any_of/all_of (or the operators | and &):

    stop.any_of(stop.max_steps(12), stop.max_length(22), stop.no_change(),
                stop.all_of(stop.length_at_least(6), stop.probability_below(0.2)))
"""
from ._slotdiff import Stop

__all__ = ["Stop", "max_steps", "max_length", "length_at_least", "probability_below", "change_below",
           "similarity_above", "no_change", "never", "any_of", "all_of"]


def max_steps(limit: int) -> Stop:
    """Done after `limit` steps."""
    return Stop("max_steps", float(limit))


def max_length(limit: int) -> Stop:
    """Done once the sequence has `limit` tokens or more."""
    return Stop("max_length", float(limit))


def length_at_least(limit: int) -> Stop:
    """True once the sequence has `limit` tokens or more (a guard inside all_of)."""
    return Stop("length_at_least", float(limit))


def probability_below(tau: float) -> Stop:
    """Done when no slot's most likely real token has probability above tau."""
    return Stop("probability_below", float(tau))


def change_below(epsilon: float) -> Stop:
    """Done when the last step's semantic change was below epsilon (needs a semantic measure)."""
    return Stop("change_below", float(epsilon))


def similarity_above(theta: float) -> Stop:
    """Done when the text is at least theta similar to a target embedding (needs a semantic measure)."""
    return Stop("similarity_above", float(theta))


def no_change() -> Stop:
    """Done when the last step inserted nothing."""
    return Stop("no_change")


def never() -> Stop:
    """Never done (denoise's max_steps still caps the loop)."""
    return Stop("never")


def any_of(*policies: Stop) -> Stop:
    """Done when any of the policies says so."""
    return Stop("any_of", 0.0, list(policies))


def all_of(*policies: Stop) -> Stop:
    """Done when all of the policies say so."""
    return Stop("all_of", 0.0, list(policies))
