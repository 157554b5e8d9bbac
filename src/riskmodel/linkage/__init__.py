"""Supervision ↔ education linkage (paper §3): the case archive, de-identification, targeted education,
integrity profiles and roles.

Modules
-------
``archive``    search (Chinese phrases with gaps) and statistics over cases, interviews and the rectification ledger
``deid``       keyed pseudonyms, text scrubbing, k-anonymous generalisation, warning-case digests, :func:`find_leaks`
``topics``     the one table from indicators and case types to education topics
``education``  targeted plans (即查即教), recommendations, learning analytics, difference-in-differences
``profiles``   integrity profiles (廉政档案) and tiers; tier changes go to the ledger
``roles``      who gets which view and which columns (:class:`RoleView`); the export commands go through it

The tamper-evident ledger itself is :mod:`riskmodel.ledger`.  This room reads
data tables and scoring outputs (a run folder) only: cases and reviewers' decisions, never the
generator's answer key, which only evaluation reads.
"""

from riskmodel.linkage.archive import Archive, case_counts, rectification_completion, search_archive, time_to_close
from riskmodel.linkage.deid import (Deidentifier, LeakError, PseudonymKeyError, Pseudonymizer, assert_no_leaks, create_key,
                                    find_leaks, load_key, warning_digests)
from riskmodel.linkage.education import (EducationPlan, education_effect, education_plan, findings, flag_panel, leaderboard,
                                         learning_progress, learning_summary, recommend, widen_plans)
from riskmodel.linkage.profiles import TIERS, integrity_profiles, pending_tier_changes, recorded_tiers, set_tier
from riskmodel.linkage.roles import POLICIES, AccessDenied, RoleView, require, resolve_role
from riskmodel.linkage.topics import topics_for_case, topics_for_indicators

__all__ = [
    "AccessDenied", "Archive", "Deidentifier", "EducationPlan", "LeakError", "POLICIES", "PseudonymKeyError", "Pseudonymizer",
    "RoleView", "TIERS", "assert_no_leaks", "case_counts", "create_key", "education_effect", "education_plan", "find_leaks",
    "findings", "flag_panel", "integrity_profiles", "leaderboard", "learning_progress", "learning_summary", "load_key",
    "pending_tier_changes", "recommend", "recorded_tiers", "rectification_completion", "require", "resolve_role",
    "search_archive", "set_tier", "time_to_close", "topics_for_case", "topics_for_indicators", "warning_digests", "widen_plans",
]
