"""Explainers of trained networks behind one interface: SRNet's formulas, a
direct symbolic regression, X-Net, gplearn, pyoperon, and the local-surrogate baselines LIME
and MAPLE."""

from srnet.explain.base import Explainer, LocalLinearExplainer
from srnet.explain.factory import EXPLAINERS, check_explainers, make_explainer, make_explainers
from srnet.explain.formulas import (
    CGPDirectExplainer,
    GplearnExplainer,
    PyoperonExplainer,
    SRNetExplainer,
    XNetExplainer,
    gplearn_available,
    pyoperon_available,
)
from srnet.explain.lime_local import LimeExplainer
from srnet.explain.maple import MapleExplainer
from srnet.explain.network import NetworkFunction

__all__ = ["EXPLAINERS", "CGPDirectExplainer", "Explainer", "GplearnExplainer", "LimeExplainer",
           "LocalLinearExplainer", "MapleExplainer", "NetworkFunction", "PyoperonExplainer", "SRNetExplainer",
           "XNetExplainer",
           "check_explainers", "gplearn_available", "make_explainer", "make_explainers", "pyoperon_available"]
