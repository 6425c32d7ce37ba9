from .account import switch_language
from .portal import engagement_detail, home

__all__ = ["engagement_detail", "home", "switch_language"]
