from .portal import engagement_detail, home

__all__ = ["engagement_detail", "home"]
