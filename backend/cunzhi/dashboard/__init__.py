"""The township dashboard: every figure of shared/spec/dashboard.md, its formula, drill links and exports."""
