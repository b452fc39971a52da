"""What every scenario key means: description, unit and the source of its default — one lookup.

``field_doc(model, name)`` is the one place code asks. A field may carry its unit and source inline in
the schema (``Field(json_schema_extra=meta(unit, source))``, and ``description=``); those win. Everything
else comes from ``FIELD_DOCS[ClassName][field] = (description, unit, source)``. ``source`` cites a row of
shared/DOMAIN.md (with its date) or says "assumption: <why>"; it is None only for keys without a
default. Inherited keys (the shock timing of ``ShockBase``) are documented once on the base class.
``documented_json_schema()`` lays the table over pydantic's JSON Schema, so ``usdai-sim schema`` and
editors (VS Code YAML completion) show it, and the explorer app reads its labels from here.
A test fails when a schema key has no entry here.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from usdai_sim.scenario import schema

Doc = tuple[str, str, str | None]

DOMAIN_LOANS = "DOMAIN.md 'GPU loans' and 'USD.AI's stated loan terms' (USD.AI docs, Sep 2025)"
DOMAIN_VAULT = "DOMAIN.md 'sUSDai (vault)' (USD.AI contracts and docs, 2025)"
DOMAIN_TBILL = "DOMAIN.md 'T-bill (3-month, monthly avg)' (FRED TB3MS, Jan 2026)"
DOMAIN_FORCED = "DOMAIN.md 'forced-sale factors' (spotwire valuator data, CC-BY-4.0)"
ASSUME_BEHAVIOUR = "assumption: no public data on sUSDai holder behaviour; chosen to give calm-market flows"
ASSUME_MARKET = "assumption: judgement, no published figure; vary it in stress scenarios"
ASSUME_RUN = "assumption: a run setting, not a calibrated parameter"
SHOCK_SOURCE = "assumption: the shock's size is the scenario author's choice"

FIELD_DOCS: dict[str, dict[str, Doc]] = {
    "Scenario": {
        "name": ("name of the scenario, used for output folders and labels; defaults to the file's stem",
                 "text", ASSUME_RUN),
        "description": ("one paragraph on what the scenario represents; its first line is listed by "
                        "`usdai-sim list`", "text", ASSUME_RUN),
        "simulation": ("horizon, time step, Monte Carlo size and seed", "section", ASSUME_RUN),
        "markets": ("exogenous markets: T-bill, GPU resale, rentals, utilisation", "section", DOMAIN_TBILL),
        "borrowers": ("the GPU-operator population, in cohorts", "section", DOMAIN_LOANS),
        "depositors": ("sUSDai holders and their behaviour", "section", ASSUME_BEHAVIOUR),
        "protocol": ("USDai, the sUSDai vault, loan servicing, liquidation, insurance", "section", DOMAIN_VAULT),
        "shocks": ("dated or stochastic stress events (see the shock types)", "list", SHOCK_SOURCE),
        "validation": ("observed outcomes with tolerance bands a replay's median must hit", "list",
                       "assumption: none unless the scenario replays a historical episode"),
    },
    "Simulation": {
        "horizon_days": ("length of the simulation", "days", "assumption: 36 months, one loan term "
                         "(DOMAIN.md 'GPU loans')"),
        "step_days": ("model time step; must divide the horizon", "days", ASSUME_RUN),
        "paths": ("number of Monte Carlo paths", "count", ASSUME_RUN),
        "seed": ("random seed; the same seed gives the same paths", "integer", ASSUME_RUN),
        "start_date": ("calendar date of day 0 (ISO, YYYY-MM-DD); reports label time with it", "date",
                       ASSUME_RUN),
        "record_every_steps": ("record per-path series every this many steps", "steps", ASSUME_RUN),
        "population_seed": ("seed of one agent population on every path (null: a population per path)", "integer",
                            ASSUME_RUN),
    },
    "TBill": {
        "model": ("short-rate process: vasicek, cir, constant or historical (shipped TB3MS)", "choice",
                  ASSUME_MARKET),
        "initial_rate": ("T-bill rate on day 0", "annual decimal", DOMAIN_TBILL),
        "mean_rate": ("long-run mean the rate reverts to", "annual decimal", DOMAIN_TBILL),
        "kappa_per_year": ("speed of mean reversion", "per year", ASSUME_MARKET),
        "vol_per_sqrt_year": ("volatility of the rate", "annual decimal per sqrt(year)", ASSUME_MARKET),
        "history_start_date": ("first month of TB3MS history used by model: historical", "date",
                               DOMAIN_TBILL),
    },
    "Gpu": {
        "common": ("factor shared by all GPU classes (log-normal)", "section", ASSUME_MARKET),
        "class_factor": ("factor of each class (log-normal)", "section", ASSUME_MARKET),
        "idiosyncratic": ("factor of each borrower's fleet (log-normal)", "section", ASSUME_MARKET),
        "liquidity_kappa_per_year": ("mean reversion of the common and class liquidity factors", "per year",
                                     ASSUME_MARKET),
        "valuation": ("how a GPU's fundamental value is set (income or depreciation)", "section",
                      "assumption: income approach, see usdai_sim/market/valuation.py"),
        "classes": ("GPU classes by name, laid over the shipped catalog", "section",
                    "DOMAIN.md 'GPU prices', 'other rental', 'residual value' (mid-2026; usdai_sim/market/catalog.py)"),
    },
    "Factor": {
        "drift_per_year": ("drift of the factor's log-returns", "per year", ASSUME_MARKET),
        "vol_per_sqrt_year": ("volatility of the factor's log-returns", "per sqrt(year)",
                              "DOMAIN.md '2022 crypto GPU crash' (used GPUs −40–60% in 6–9 months)"),
    },
    "GpuClass": {
        "list_price_usd": ("price of one new GPU (rack price / GPUs for rack-scale systems)", "USD", None),
        "rental_usd_per_gpu_hour": ("market rental anchor", "USD per GPU-hour", None),
        "power_kw_per_gpu": ("all-in electrical draw per GPU, before cooling (PUE)", "kW per GPU",
                             "DOMAIN.md 'power per GPU' (DGX H100 ~1.3 kW per GPU at the wall); per class: "
                             "vendor system maximum / 8 GPUs"),
        "max_ltv": ("maximum loan-to-value at origination", "fraction", DOMAIN_LOANS),
        "market_depth_gpus_per_30d": ("GPUs sellable in 30 days without moving the price", "GPUs per 30 days",
                                      ASSUME_MARKET),
        "depreciation": ("age curve of resale value", "section", "DOMAIN.md 'residual value' (price trackers)"),
    },
    "Depreciation": {
        "method": ("straight_line, declining_balance or table", "choice",
                   "DOMAIN.md 'residual value' (price trackers)"),
        "annual_rate": ("declining-balance rate", "per year", "DOMAIN.md 'GPU loans' (docs assume 15–20%/yr)"),
        "life_years": ("straight-line life", "years", "DOMAIN.md 'depreciation policy' (10-K filings, 2025)"),
        "salvage_fraction": ("value left at the end of life", "fraction of list price", ASSUME_MARKET),
        "vintage_factors": ("resale value at ages 0, 1, 2, ... years (table method)", "fraction of list price",
                            "DOMAIN.md 'residual value' (vintage factors, price trackers)"),
    },
    "Valuation": {
        "method": ("income (PV of net rental over the economic life) or depreciation (age curve)", "choice",
                   "assumption: income approach, so rentals move resale values"),
        "discount_rate": ("discount rate of the rental income", "per year", None),
        "economic_life_years": ("economic life of a GPU", "years", None),
        "billable_fraction": ("share of hours billed in the valuation", "fraction", None),
        "opex_fraction_of_revenue": ("operating cost as a share of revenue", "fraction", None),
    },
    "Rental": {
        "drift_per_year": ("trend of log rental prices", "per year",
                           "DOMAIN.md 'H100 rental' ($8 → <$2 2023–24, then $2.35–2.95 2026)"),
        "vol_per_sqrt_year": ("volatility of log rental prices", "per sqrt(year)", ASSUME_MARKET),
        "kappa_per_year": ("mean reversion of the rental deviation", "per year", ASSUME_MARKET),
        "correlation_with_resale": ("correlation of rental and resale shocks", "correlation", ASSUME_MARKET),
    },
    "Utilisation": {
        "kappa_per_year": ("mean reversion of utilisation (logit space)", "per year", ASSUME_MARKET),
        "vol_per_sqrt_year": ("volatility of utilisation (logit space)", "per sqrt(year)", ASSUME_MARKET),
        "common_weight": ("share of utilisation noise from the common demand factor", "fraction",
                          ASSUME_MARKET),
    },
    "Markets": {
        "tbill": ("the T-bill rate earned on USDai reserves", "section", DOMAIN_TBILL),
        "gpu": ("GPU resale values", "section", "DOMAIN.md 'GPU prices' (mid-2026)"),
        "rental": ("GPU rental prices", "section", "DOMAIN.md 'H100 rental' (May 2026)"),
        "utilisation": ("borrowers' utilisation of uncontracted GPUs", "section",
                        "DOMAIN.md 'utilisation' (neoclouds bill 85–95%)"),
    },
    "Borrowers": {
        "cohorts": ("groups of similar GPU operators", "list", DOMAIN_LOANS),
        "demand_patience_days": ("days a loan request waits for funding before it lapses", "days",
                                 "assumption: a quarter, a typical bank-financing fallback time"),
        "default_rule": ("when a solvent operator walks away: option, myopic or collateral_barrier", "choice",
                         "DOMAIN.md 'Operator economics and default behaviour' (Leland 1994; Black–Cox 1976)"),
        "expected_reversion_per_year": (
            "how fast owners expect a fall in market rentals to revert, in the default boundary (option, myopic); "
            "null: the simulated process's markets.rental.kappa_per_year; 0: a fall lasts", "per year",
            "assumption: owners know the process unless a scenario says otherwise; Iris Energy (Nov 2022) "
            "walked as if the fall would last (calibration page, section 4)"),
        "refinance_at_maturity": ("a balloon the borrower cannot pay is refinanced against the fleet",
                                  "boolean", "assumption: lenders prefer refinancing to repossession"),
    },
    "Cohort": {
        "name": ("label of the cohort in reports", "text", ASSUME_RUN),
        "count": ("number of borrowers in the cohort", "count", ASSUME_RUN),
        "gpu_class": ("GPU class of the fleets (a key of markets.gpu.classes)", "class name", DOMAIN_LOANS),
        "gpus": ("GPUs per borrower", "GPUs", "DOMAIN.md 'loans' ($34M for 768 GPUs, 2026)"),
        "age_years": ("age of the fleet at origination", "years", "assumption: installed, recent hardware"),
        "requested_ltv": ("loan-to-value the borrower asks for (capped by the class max_ltv)", "fraction",
                          DOMAIN_LOANS),
        "apr": ("fixed loan rate", "annual decimal", DOMAIN_LOANS),
        "rate_type": ("fixed or floating (T-bill + floating_spread)", "choice", DOMAIN_LOANS),
        "floating_spread": ("spread over the T-bill of floating loans", "annual decimal",
                            "DOMAIN.md 'GPU loan pricing' (SOFR + 500–700 bp, Dec 2025)"),
        "term_months": ("loan term (30-day months)", "months", DOMAIN_LOANS),
        "amortisation": ("amortising (level annuity) or interest_only (balloon)", "choice", DOMAIN_LOANS),
        "origination_day": ("day the loan is requested", "days", ASSUME_RUN),
        "contracted_share": ("share of GPUs under take-or-pay contracts", "fraction",
                             "DOMAIN.md 'leading neocloud margins' (revenue mostly committed contracts, 2025)"),
        "contract_price_fraction": ("contract price / spot rental at origination", "fraction",
                                    "DOMAIN.md 'contract vs on-demand price' (2025–26)"),
        "contract_months": ("length of take-or-pay rental contracts", "months", None),
        "renter_default_rate_per_year": ("hazard that a contracted renter defaults", "per year", None),
        "renter_default_elasticity": ("how fast renter defaults rise as market rentals fall", "dimensionless",
                                      None),
        "renter_customers": ("customers holding the contract book in equal parts (one fails at a time)",
                             "customers", None),
        "receivable_days": ("days of a failed customer's billing never paid", "days", None),
        "pue": ("power usage effectiveness of the data centre", "dimensionless", None),
        "colocation_usd_per_kw_month": ("colocation price per kW of IT load", "USD per kW-month", None),
        "repair_usd_per_gpu_month": ("repair and replacement cost", "USD per GPU-month", None),
        "sponsor_support_months": ("shortfalls the parent covers, in months of debt service", "months", None),
        "operator_vol_per_sqrt_year": ("volatility of the operator's own achievable rental (random walk)",
                                       "per √year", None),
        "default_friction_months": ("cost of walking away, in months of revenue", "months", None),
        "equity_discount_rate": ("operators' discount rate in the default decision", "per year", None),
        "arrivals_per_month": ("new loan requests of this cohort (Poisson)", "loans per month", None),
        "utilisation_level": ("long-run utilisation of uncontracted GPUs", "fraction",
                              "DOMAIN.md 'utilisation' (neoclouds bill 85–95%)"),
        "power_usd_per_kwh": ("electricity price", "USD per kWh", "assumption: US industrial power range"),
        "idle_power_fraction": ("power drawn by an idle GPU / busy", "fraction", "assumption: typical idle draw"),
        "overhead_usd_per_gpu_month": ("staff and other fixed costs", "USD per GPU-month",
                                       "assumption: small operator overhead"),
        "initial_cash_months": ("cash at origination, in months of debt service", "months",
                                "assumption: thinly capitalised SPVs"),
        "dsra_months": ("debt-service reserve, in months of payments", "months", DOMAIN_LOANS),
        "cash_sweep_above_months": ("cash above this many payments goes to the sponsor", "months",
                                    "assumption: SPV cash sweep"),
        "strategic_walk_ratio": ("walk away when collateral < ratio × debt (non-recourse)", "ratio",
                                 "DOMAIN.md 'non-recourse SPV walk-away' (Iris Energy, Nov 2022)"),
        "fraud_rate_per_year": ("hazard of a fraud default", "per year",
                                "DOMAIN.md 'misrepresentation default' (Maple, Dec 2022: 1.2% over a book)"),
        "hardware_failure_rate_per_year": ("rate at which GPUs are lost", "per year",
                                           "DOMAIN.md 'hardware failure' (Meta, Llama 3: ~9%/yr interruptions)"),
        "hardware_insured": ("failed GPUs are replaced by insurance", "boolean", "assumption: uninsured"),
        "refinance_ltv": ("a balloon the borrower cannot pay is refinanced up to this LTV", "fraction",
                          "assumption: conservative refinancing"),
        "maintenance_ltv": ("maintenance-LTV covenant (none when null)", "fraction", DOMAIN_LOANS),
        "covenant_cure_days": ("days to cure a covenant breach", "days", "assumption: one payment period"),
    },
    "Spread": {
        "low": ("lowest value drawn", "unit of the key", None),
        "high": ("highest value drawn", "unit of the key", None),
        "log": ("draw log-uniformly", "boolean", ASSUME_RUN),
    },
    "PriceImpact": {
        "discount_slope": ("fire-sale discount per unit of (window volume / depth)", "fraction per depth",
                           ASSUME_MARKET),
        "max_discount": ("largest fire-sale discount", "fraction", ASSUME_MARKET),
        "index_impact_per_depth": ("fall of the class index per unit of sold / depth (log)", "per depth",
                                   ASSUME_MARKET),
        "half_life_days": ("recovery half-life of the depressed index", "days", ASSUME_MARKET),
        "window_days": ("decay window of recent forced-sale volume", "days", ASSUME_MARKET),
    },
    "Liquidation": {
        "time_to_sell_days": ("days from default to the collateral sale", "days",
                              "DOMAIN.md 'GPU loans' (7- and 14-day windows published; 30 assumed)"),
        "forced_sale_factors": ("sale value / orderly value by days to sell", "fraction", DOMAIN_FORCED),
        "fee_fraction": ("liquidation fee on gross proceeds", "fraction", DOMAIN_LOANS + " (10% in tests)"),
        "surplus_to": ("who keeps proceeds above the claim", "choice", DOMAIN_LOANS),
        "price_impact": ("fire-sale discount and index depression", "section", ASSUME_MARKET),
        "fraud_missing_fraction": ("share of the fleet gone after fraud", "fraction",
                                   "DOMAIN.md 'misrepresentation default' (Maple LGD ≈ 93%, Dec 2022)"),
        "recourse_recovery_fraction": ("share of the principal shortfall recovered by springing recourse",
                                       "fraction", "assumption: legal recoveries are partial"),
        "recourse_delay_days": ("days from default to a recourse recovery", "days",
                                "assumption: six months of litigation"),
    },
    "LossRecognition": {
        "policy": ("on_sale (USD.AI), on_default (impairment) or linear (Goldfinch-style)", "choice",
                   DOMAIN_VAULT),
        "writedown_grace_days": ("grace before linear write-down starts", "days",
                                 "DOMAIN.md 'Comparable designs' (Goldfinch 45 days)"),
        "writedown_days": ("length of the linear write-down", "days",
                           "DOMAIN.md 'Comparable designs' (Goldfinch 120 days)"),
    },
    "Insurance": {
        "cover_usd": ("aggregate GPU value insurance cover", "USD", "assumption: off unless a scenario buys it"),
        "insured_fraction": ("insured value as a share of depreciated list value", "fraction",
                             "assumption: DOMAIN.md 'USD.AI's stated loan terms' (insured amount unpublished)"),
        "premium_bps_per_year": ("premium on the covered amount", "bps per year",
                                 "assumption: off unless a scenario buys cover"),
    },
    "Qev": {
        "enabled": ("run the queue-extractable-value auction at window closes", "boolean", DOMAIN_VAULT),
        "admin_share": ("share of bid shares paid to the admin (rest burned)", "fraction", DOMAIN_VAULT),
        "min_bid_bps": ("smallest bid", "bps of shares", DOMAIN_VAULT),
        "max_bid_bps": ("largest bid", "bps of shares", DOMAIN_VAULT),
    },
    "Queue": {
        "window_days": ("redemption window length", "days", DOMAIN_VAULT),
        "min_request_shares": ("smallest redemption request", "sUSDai shares", DOMAIN_VAULT),
        "qev": ("priority auction", "section", DOMAIN_VAULT),
    },
    "Allocation": {
        "max_loan_share": ("largest loan book as a share of sUSDai NAV", "fraction",
                           "DOMAIN.md 'sUSDai allocation' (loans ~6.4% of reserves, early 2026)"),
        "min_liquidity_fraction": ("idle USDai kept back from lending", "fraction",
                                   "assumption: a small liquidity buffer"),
        "min_dscr": ("underwriting floor: EBITDA at today's rentals / debt service of the new loan (null: none)",
                     "ratio",
                     "assumption: the low end of the public DSCR-at-origination range 1.2–2.0 (issue #12; "
                     "DOMAIN.md 'Operator economics')"),
        "dscr_basis": ("what min_dscr is tested on: today (the day's market) or expected_path (the lowest coverage "
                       "over the loan's payment dates on the market's median path)", "choice",
                       "assumption: the public DSCR range is quoted at origination (DOMAIN.md 'Operator economics'); "
                       "expected_path is a study lever (calibration page, section 3)"),
    },
    "Protocol": {
        "grace_days": ("grace period after a missed payment", "days", DOMAIN_LOANS + " (30 days in tests)"),
        "grace_apr_premium": ("extra rate on missed payments during grace", "annual decimal",
                              "assumption: late-payment premium"),
        "admin_fee_base_yield_bps": ("admin fee on reserve yield", "bps", DOMAIN_VAULT),
        "admin_fee_loan_interest_bps": ("admin fee on loan interest", "bps", DOMAIN_VAULT),
        "incentive_apr": ("PYUSD incentive on reserves", "annual decimal",
                          "DOMAIN.md 'The protocol in one paragraph' (4.5%/yr on up to $1B in 2026)"),
        "incentive_cap_usd": ("reserves that earn the incentive", "USD",
                              "DOMAIN.md 'The protocol in one paragraph' (2026)"),
        "supply_cap_usd": ("USDai supply cap (none when null)", "USD", "DOMAIN.md 'USDai (token)' (Oct 2025)"),
        "initial_susdai_nav_usd": ("sUSDai NAV on day 0", "USD", "DOMAIN.md 'USDai supply' (Nov 2026)"),
        "unstaked_usdai_usd": ("USDai held outside the vault on day 0", "USD",
                               "DOMAIN.md 'USDai supply' (Nov 2026)"),
        "first_loss_usd": ("curators' first-loss capital", "USD", "assumption: none unless a scenario adds it"),
        "liquidation": ("collateral sale after default", "section", DOMAIN_LOANS),
        "loss_recognition": ("when losses reach the exchange ratio", "section", DOMAIN_VAULT),
        "insurance": ("GPU value insurance", "section", "assumption: off by default"),
        "queue": ("redemption queue", "section", DOMAIN_VAULT),
        "allocation": ("lending of idle USDai", "section", DOMAIN_VAULT),
    },
    "Depositors": {
        "count": ("number of sUSDai holders simulated", "count", ASSUME_RUN),
        "balance_pareto_alpha": ("tail index of holder balances", "exponent",
                                 "assumption: on-chain balances are heavy-tailed"),
        "wallet_multiple": ("wallet outside the vault / balance", "ratio", ASSUME_BEHAVIOUR),
        "deposit_hurdle": ("yield spread over T-bills a holder needs to add funds", "annual decimal",
                           ASSUME_BEHAVIOUR),
        "deposit_rate_per_year": ("deposit hazard when above the hurdle", "per year", ASSUME_BEHAVIOUR),
        "deposit_fraction": ("share of the wallet deposited", "fraction", ASSUME_BEHAVIOUR),
        "redeem_base_rate_per_year": ("baseline redemption hazard", "per year", ASSUME_BEHAVIOUR),
        "spread_threshold": ("yield spread below which holders leave", "annual decimal", ASSUME_BEHAVIOUR),
        "spread_sensitivity_per_year": ("extra hazard per unit of spread shortfall", "per year",
                                        ASSUME_BEHAVIOUR),
        "loss_threshold": ("drawdown above which holders leave", "fraction", ASSUME_BEHAVIOUR),
        "loss_sensitivity_per_year": ("extra hazard per unit of drawdown excess", "per year",
                                      ASSUME_BEHAVIOUR),
        "herd_threshold": ("queue share above which holders follow", "fraction",
                           "assumption: DOMAIN.md 'Ethena USDe, Oct 2025' (13% of supply in two days)"),
        "herd_sensitivity_per_year": ("extra hazard per unit of queue excess", "per year", ASSUME_BEHAVIOUR),
        "request_fraction": ("share of a holder's shares in one request", "fraction", ASSUME_BEHAVIOUR),
        "qev_bid_bps": ("QEV bid size", "bps of shares", DOMAIN_VAULT + " (10–10,000 bps)"),
        "qev_bid_probability": ("chance a waiting holder bids", "fraction", ASSUME_BEHAVIOUR),
        "yield_lookback_days": ("window of the trailing yield holders watch", "days", ASSUME_BEHAVIOUR),
        "max_holder_share": ("cap on one holder's share of the initial balance", "fraction", ASSUME_BEHAVIOUR),
        "run_proneness": ("scales every stress reaction of stakers (1 = calibrated)", "multiple", ASSUME_BEHAVIOUR),
        "loss_news_half_life_days": ("half-life of the news of an expected loss", "days", ASSUME_BEHAVIOUR),
        "loss_news_sensitivity_per_year": ("extra redemption hazard per unit of loss news", "per year",
                                           ASSUME_BEHAVIOUR),
        "outflow_threshold": ("share of supply taken out in 7 days above which holders follow", "fraction",
                              "assumption: DOMAIN.md 'Ethena USDe, Oct 2025' (13% of supply in two days)"),
        "outflow_sensitivity_per_year": ("extra hazard per unit of outflow above the threshold", "per year",
                                         ASSUME_BEHAVIOUR),
        "exit_discount_tolerance": ("secondary-market discount a holder accepts to exit now", "fraction",
                                    ASSUME_BEHAVIOUR),
        "first_mover_days": ("window after stress start that defines early leavers", "days", ASSUME_BEHAVIOUR),
        "unstaked": ("holders of unstaked USDai and their behaviour", "section", ASSUME_BEHAVIOUR),
        "secondary": ("the secondary market for sUSDai", "section", ASSUME_BEHAVIOUR),
    },
    "UnstakedHolders": {
        "count": ("number of unstaked USDai holders simulated", "count", ASSUME_RUN),
        "balance_pareto_alpha": ("tail index of unstaked balances", "exponent",
                                 "assumption: on-chain balances are heavy-tailed"),
        "max_holder_share": ("cap on one holder's share of unstaked USDai", "fraction", ASSUME_BEHAVIOUR),
        "redeem_base_rate_per_year": ("baseline hazard of redeeming USDai for stablecoin", "per year",
                                      ASSUME_BEHAVIOUR),
        "inflow_rate_per_year": ("rate of new unstaked USDai minted", "per year", ASSUME_BEHAVIOUR),
        "loss_news_sensitivity_per_year": ("extra hazard per unit of loss news", "per year", ASSUME_BEHAVIOUR),
        "discount_threshold": ("sUSDai discount above which holders redeem", "fraction", ASSUME_BEHAVIOUR),
        "discount_sensitivity_per_year": ("extra hazard per unit of discount", "per year", ASSUME_BEHAVIOUR),
        "queue_threshold": ("queue share above which holders redeem", "fraction", ASSUME_BEHAVIOUR),
        "queue_sensitivity_per_year": ("extra hazard per unit of queue excess", "per year", ASSUME_BEHAVIOUR),
        "outflow_threshold": ("7-day outflow share above which holders follow", "fraction", ASSUME_BEHAVIOUR),
        "outflow_sensitivity_per_year": ("extra hazard per unit of outflow excess", "per year", ASSUME_BEHAVIOUR),
        "redeem_limit_usd_per_day": ("cap on unstaked redemptions a day (none when null)", "USD per day",
                                     ASSUME_BEHAVIOUR),
    },
    "SecondaryMarket": {
        "enabled": ("holders may sell sUSDai at a discount instead of queueing", "boolean", ASSUME_BEHAVIOUR),
        "base_discount": ("discount to NAV in calm markets", "fraction", ASSUME_MARKET),
        "queue_slope": ("extra discount per unit of queue share", "fraction per queue share", ASSUME_MARKET),
        "wait_slope_per_year": ("extra discount per year of expected wait", "per year", ASSUME_MARKET),
        "loss_news_slope": ("extra discount per unit of loss news", "multiple", ASSUME_MARKET),
        "max_discount": ("largest discount", "fraction", ASSUME_MARKET),
        "arbitrage_capital_usd_per_day": ("capital arbitrageurs deploy a day buying at a discount",
                                          "USD per day", ASSUME_MARKET),
    },
    "ShockBase": {
        "start_day": ("day the shock starts", "days", SHOCK_SOURCE),
        "duration_days": ("length (step) or ramp time (ramp); permanent when null", "days", SHOCK_SOURCE),
        "shape": ("step or ramp envelope", "choice", SHOCK_SOURCE),
        "probability": ("share of paths on which the shock happens", "fraction", SHOCK_SOURCE),
        "start_window_days": ("start drawn uniformly within this many days after start_day", "days",
                              SHOCK_SOURCE),
        "type": ("shock type (selects its keys)", "choice", None),
    },
    "GpuResaleShock": {
        "classes": ("classes hit (all when empty)", "class names", SHOCK_SOURCE),
        "change": ("relative change of the resale index at full strength", "fraction", None),
    },
    "RentalShock": {
        "classes": ("classes hit (all when empty)", "class names", SHOCK_SOURCE),
        "change": ("relative change of rental prices at full strength", "fraction", None),
    },
    "UtilisationShock": {"change": ("relative change of utilisation at full strength", "fraction", None)},
    "TbillShiftShock": {"shift": ("added to the T-bill rate at full strength", "annual decimal", None)},
    "TbillLevelShock": {"level": ("T-bill rate at full strength", "annual decimal", None)},
    "TbillPathShock": {
        "days": ("days after the start at which each rate begins", "days", SHOCK_SOURCE),
        "rates": ("T-bill rates (step-wise)", "annual decimal", SHOCK_SOURCE),
    },
    "SeriesShock": {
        "target": ("driver the series multiplies: rental, resale, liquidity or utilisation", "choice", None),
        "classes": ("classes hit (all when empty)", "class names", SHOCK_SOURCE),
        "days": ("days after the start of each value (negative: before it)", "days",
                 "the replay's observed series (usdai_sim/data/replays)"),
        "values": ("multiplier at each day (1.0 = unchanged), linear in between", "multiple",
                   "the replay's observed series (usdai_sim/data/replays)"),
    },
    "ValidationTarget": {
        "metric": ("replay metric the target checks (usdai_sim.calibration.replays)", "metric name", None),
        "observed": ("the observed value of the metric", "unit of the metric", None),
        "low": ("lowest median that passes", "unit of the metric", None),
        "high": ("highest median that passes", "unit of the metric", None),
        "source": ("where the observed value comes from", "text", None),
        "note": ("why the band is what it is", "text", "assumption: optional"),
        "from_day": ("first day of the window the metric reads (null: day 0)", "days", "assumption: whole run"),
        "to_day": ("last day of the window the metric reads (null: the horizon)", "days",
                   "assumption: whole run"),
        "gpu_class": ("GPU class a per-class metric reads (recovery per machine sold); null for the others",
                      "class name", "assumption: optional"),
    },
    "FraudShock": {"multiplier": ("fraud rate multiplier at full strength", "multiple", None)},
    "RedemptionWaveShock": {
        "fraction_of_supply": ("share of sUSDai supply that requests redemption", "fraction", None),
    },
    "NewGenerationShock": {
        "classes": ("older classes hit by the launch", "class names", None),
        "extra_depreciation_per_year": ("extra value lost per year after launch", "per year",
                                        "DOMAIN.md 'depreciation policy' (critics: 2–3 yr economic life)"),
        "resale_jump": ("one-off resale change at launch", "fraction", SHOCK_SOURCE),
        "rental_jump": ("one-off rental change at launch", "fraction", SHOCK_SOURCE),
    },
}


def _table_doc(model: type[BaseModel], name: str) -> Doc | None:
    for cls in model.__mro__:
        found = FIELD_DOCS.get(cls.__name__, {}).get(name)
        if found is not None:
            return found
    return None


def field_doc(model: type[BaseModel], name: str) -> Doc | None:
    """(description, unit, source) of a field: inline schema extras first, then the table; None if neither."""
    info = model.model_fields.get(name)
    extra = info.json_schema_extra if info is not None and isinstance(info.json_schema_extra, dict) else {}
    table = _table_doc(model, name) or ("", "", None)
    description = (info.description if info is not None else None) or table[0]
    unit, source = str(extra.get("unit") or table[1]), extra.get("source") or table[2]
    if not (description or unit or source):
        return None
    return description, unit, None if source is None else str(source)


def scenario_models() -> list[type[BaseModel]]:
    """Every pydantic model reachable from Scenario (sections, cohorts, classes, shock types), Scenario first."""
    return [schema.Scenario, *(getattr(schema, name) for name in schema.Scenario.model_json_schema()["$defs"])]


def undocumented() -> list[str]:
    """``Class.field`` of every schema field without a description or unit, or with a default but no source."""
    missing = []
    for model in scenario_models():
        for name, info in model.model_fields.items():
            doc = field_doc(model, name)
            if doc is None or not doc[0] or not doc[1] or (not info.is_required() and not doc[2]):
                missing.append(f"{model.__name__}.{name}")
    return missing


def _annotate(properties: dict[str, Any], model: type[BaseModel]) -> None:
    for name, prop in properties.items():
        doc = field_doc(model, name)
        if doc is None:
            continue
        text, unit, source = doc
        prop["description"] = f"{text} [{unit}]" + (f" Source: {source}." if source else "")
        prop["unit"] = unit
        if source:
            prop["source"] = source


def documented_json_schema() -> dict[str, Any]:
    """The Scenario JSON Schema with every property's description, ``unit`` and ``source``."""
    document = schema.Scenario.model_json_schema()
    _annotate(document["properties"], schema.Scenario)
    for name, definition in document.get("$defs", {}).items():
        _annotate(definition.get("properties", {}), getattr(schema, name))
    document["properties"]["extends"] = {
        "type": "string", "unit": "scenario name or path",
        "description": "a built-in scenario name or a YAML path (relative to this file) whose keys this file "
                       "overrides [scenario name or path]"}
    document["$defs"]["TbillPathShock"]["properties"]["csv"] = {
        "type": "string", "unit": "path",
        "description": "CSV file (relative to this file) with columns day,rate; replaces days and rates [path]"}
    document["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return document
