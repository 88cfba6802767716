"""From user data to a design matrix: validation and the table encoders (plain columns, formulas)."""
