"""Explainers of trained networks behind one interface: SRNet's formulas, a
direct symbolic regression, gplearn, and the local-surrogate baselines LIME
and MAPLE."""

from srnet.explain.base import Explainer, LocalLinearExplainer
from srnet.explain.formulas import CGPDirectExplainer, GplearnExplainer, SRNetExplainer, gplearn_available
from srnet.explain.lime_local import LimeExplainer
from srnet.explain.maple import MapleExplainer
from srnet.explain.network import NetworkFunction

EXPLAINERS = {explainer.name: explainer for explainer in (SRNetExplainer, LimeExplainer, MapleExplainer,
                                                           CGPDirectExplainer, GplearnExplainer)}

__all__ = ["EXPLAINERS", "CGPDirectExplainer", "Explainer", "GplearnExplainer", "LimeExplainer",
           "LocalLinearExplainer", "MapleExplainer", "NetworkFunction", "SRNetExplainer", "gplearn_available"]
