"""Members, repurchase and promotions (notebook 09): do the retention levers pay?

* :mod:`~shopbook.analysis.loyalty.tiers` — tiers under keep-and-upgrade rules
  (``loyalty_tiers.csv``), their sizes, revenue and repurchase, migration, the upgrade list;
* :mod:`~shopbook.analysis.loyalty.upgrade` — does moving up a tier bring members back
  (a regression discontinuity at the upgrade thresholds);
* :mod:`~shopbook.analysis.loyalty.timing` — Kaplan–Meier repurchase curves (lifelines),
  the day by which a share of second purchases happened, the hazard peak;
* :mod:`~shopbook.analysis.loyalty.uplift` — coupon uplift, randomised or weighted;
* :mod:`~shopbook.analysis.loyalty.bunching` — ladder-discount bunching, extra value, cost;
* :mod:`~shopbook.analysis.loyalty.member_day` — the member day's lift.
"""

from shopbook.analysis.loyalty.bunching import Bunching, ladder_bunching
from shopbook.analysis.loyalty.member_day import festival_days, member_day_lift, weekday_number
from shopbook.analysis.loyalty.tiers import (
    TierMigration,
    TierPaths,
    default_tier_rules_path,
    export_upgrade_list,
    load_tier_rules,
    tier_migration,
    tier_paths,
    tier_summary,
    upgrade_list,
)
from shopbook.analysis.loyalty.timing import (
    ALL,
    Curves,
    HazardPeak,
    day_by_share,
    hazard_peak,
    km_survival,
    repurchase_curves,
)
from shopbook.analysis.loyalty.upgrade import UpgradeEffect, upgrade_effect
from shopbook.analysis.loyalty.uplift import OBSERVATIONAL, RANDOMISED, Uplift, offer_uplift

__all__ = [
    "ALL",
    "OBSERVATIONAL",
    "RANDOMISED",
    "Bunching",
    "Curves",
    "HazardPeak",
    "TierMigration",
    "TierPaths",
    "UpgradeEffect",
    "Uplift",
    "day_by_share",
    "default_tier_rules_path",
    "export_upgrade_list",
    "festival_days",
    "hazard_peak",
    "km_survival",
    "ladder_bunching",
    "load_tier_rules",
    "member_day_lift",
    "offer_uplift",
    "repurchase_curves",
    "tier_migration",
    "tier_paths",
    "tier_summary",
    "upgrade_effect",
    "upgrade_list",
    "weekday_number",
]
