"""Explainers of trained networks behind one interface, and the local-surrogate baselines LIME and MAPLE."""

from srnet.explain.base import Explainer, LocalLinearExplainer
from srnet.explain.lime_local import LimeExplainer
from srnet.explain.maple import MapleExplainer

EXPLAINERS = {explainer.name: explainer for explainer in (LimeExplainer, MapleExplainer)}

__all__ = ["EXPLAINERS", "Explainer", "LimeExplainer", "LocalLinearExplainer", "MapleExplainer"]
