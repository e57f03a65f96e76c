-- Equity as risk counts it (allocations + realised profit + positions at the last close) is
-- negative when the losses exceed what the bots were given, for instance after an operator
-- lowers an allocation. The remembered peak and day's opening must be able to hold that:
-- a refused write stopped risk from recording anything at all, trips included.
ALTER TABLE trading.risk_state DROP CONSTRAINT risk_state_peak_equity_check;
ALTER TABLE trading.risk_state DROP CONSTRAINT risk_state_day_opening_equity_check;
