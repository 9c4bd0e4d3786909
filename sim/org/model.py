"""The coupled model: Mesa organisation agents on the planning clock drive the flow core.

Each `step()` is one planning period: the flow runs with the capacities in force; every
agent receives its area's counts and costs; the regime's money flows are settled into
the agents' ledgers; the agents that run intermediate-care beds and teams (municipalities
today, health councils once `regional_beds` acts) decide next period's capacity by the
configured rule. Under split responsibility a municipality sees only its own costs;
under the reform the council also pays the hospital bed-days (docs/model.md section 7).
"""

from __future__ import annotations

import mesa
import numpy as np
import polars as pl

from sim.config.schema import Scenario
from sim.flow.counters import C
from sim.flow.inputs import FlowInputs, PeriodSettings, cohort_per_unit, unit_capacity
from sim.measures import COUNTERS
from sim.org.rules import Decision, Observation, Rule
from sim.regime.costs import PAYERS, cost_to, money_flows, net_cost_columns
from sim.regime.levers import build_period_settings, lever_on


class Organisation(mesa.Agent):
    """An area's organisation: members (municipality indices), a ledger, capacity it runs."""

    kind = "organisation"

    def __init__(self, model: HealthSystem, name: str, members: np.ndarray):
        super().__init__(model)
        self.name = name
        self.members = members
        self.patients = float(model.cohort_by_muni[members].sum())
        self.observed = np.zeros(len(COUNTERS))
        self.net_cost_dkk = 0.0
        self.shortage_cost_dkk = 0.0
        self.sop_beds_per_1000 = 0.0
        self.ht_slots_per_1000 = 0.0
        self.decides = False
        self.decision = ""

    def observe(self, counts: np.ndarray, costs: dict[str, np.ndarray]) -> None:
        """Sum the period's counts (municipality × counter) and own payer's costs over members."""
        self.observed = counts[self.members].sum(axis=0)
        self.net_cost_dkk = float(costs[self.payer][self.members].sum())

    @property
    def payer(self) -> str:
        return "region"


class Municipality(Organisation):
    kind = "municipality"

    @property
    def payer(self) -> str:
        return "municipality"


class HealthCouncil(Organisation):
    kind = "council"


class Region(Organisation):
    kind = "region"


class HealthSystem(mesa.Model):
    """One scenario × replication: the flow engine plus the organisations."""

    def __init__(
        self, scenario: Scenario, inputs: FlowInputs, engine, rule: Rule, rng: np.random.Generator
    ):
        super().__init__(rng=rng)
        self.scenario, self.inputs, self.engine, self.rule = scenario, inputs, engine, rule
        self.applied: list[PeriodSettings] = []  # the settings each period ran with
        geo = inputs.geography
        self.cohort_by_muni = cohort_per_unit(inputs.units.sop_of_muni, inputs.cohort, geo.n)
        self.k = 0
        for i, name in enumerate(geo.municipalities):
            Municipality(self, name, np.array([i]))
        for c, name in enumerate(geo.councils):
            members = np.flatnonzero(geo.council_of == c)
            if members.size:
                HealthCouncil(self, name, members)
        for r, name in enumerate(geo.regions_current):
            members = np.flatnonzero(geo.region_current_of == r)
            if members.size:
                Region(self, name, members)
        # capacity rates per municipality chosen by the rule; None: as configured
        self.sop_rate: np.ndarray | None = None
        self.ht_rate: np.ndarray | None = None
        self.datacollector = mesa.DataCollector(
            agent_reporters={
                "agent_type": "kind",
                "agent": "name",
                "decides": "decides",
                "sop_beds_per_1000": "sop_beds_per_1000",
                "ht_slots_per_1000": "ht_slots_per_1000",
                "net_cost_dkk": "net_cost_dkk",
                "shortage_cost_dkk": "shortage_cost_dkk",
                "decision": "decision",
            }
        )

    # ------------------------------------------------------------------ settings
    def deciders(self) -> mesa.agent.AgentSet:
        period = self.inputs.periods[self.k]
        kind = (
            HealthCouncil
            if lever_on(self.scenario, "regional_beds", period.first_date)
            else Municipality
        )
        return self.agents_by_type[kind]

    def settings(self) -> PeriodSettings:
        """The configured settings of this period, with the capacities the deciders chose."""
        configured = build_period_settings(self.scenario, self.inputs, self.inputs.periods[self.k])
        if self.sop_rate is not None:
            configured = configured.with_(
                sop_beds=unit_capacity(self.sop_rate, self.cohort_by_muni)
            )
        if self.ht_rate is not None:
            configured = configured.with_(ht_slots=unit_capacity(self.ht_rate, self.cohort_by_muni))
        return configured

    def release(self) -> None:
        """Let the model be garbage-collected: Mesa 3.3's `Agent._ids` holds every model
        that created an agent, for the life of the process (mesa issue #3179, fixed
        upstream by #3180), so each national replication leaked ~0.5 GB in a worker.
        The model still sits in reference cycles: see sim.run.runner.read_and_release."""
        for agent in list(self.agents):
            agent.remove()
        getattr(mesa.Agent, "_ids", {}).pop(self, None)

    # ---------------------------------------------------------------------- step
    def step(self) -> None:
        settings = self.settings()
        self.applied.append(settings)
        self.engine.run_period(self.k, settings)
        counts = self.engine.counts[self.k].sum(axis=1)  # municipality × counter
        costs = self.settle(counts)
        self.agents.do("observe", counts, costs)
        self.decide(settings, counts)
        self.datacollector.collect(self)
        self.k += 1

    def settle(self, counts: np.ndarray) -> dict[str, np.ndarray]:
        """Net cost per payer and municipality for the period, from the regime's money flows."""
        frame = pl.DataFrame({name: counts[:, C[name]] for name in COUNTERS})
        flows = money_flows(self.scenario, self.inputs.periods[self.k])
        net = frame.select(net_cost_columns(flows))
        return {payer: net[f"cost_{payer}_dkk"].to_numpy() for payer in PAYERS}

    def own_costs(self, agent: Organisation) -> tuple[float, float]:
        """What a delayed day and an admission for want of a step-up bed cost this decider,
        priced by the same money flows that settle the period."""
        flows = money_flows(self.scenario, self.inputs.periods[self.k])
        obs = agent.observed
        stay = obs[C["hospital_bed_days"]] / max(obs[C["discharges"]], 1.0)
        late = obs[C["delayed_discharge_days_late"]] / max(obs[C["delayed_discharge_days"]], 1.0)
        delayed_day = {
            "hospital_bed_days": 1.0,
            "delayed_discharge_days": 1.0,
            "delayed_discharge_days_late": late,
        }
        admission = {"admissions": 1.0, "hospital_bed_days": stay, "discharges": 1.0}
        return cost_to(flows, agent.payer, delayed_day), cost_to(flows, agent.payer, admission)

    def decide(self, settings: PeriodSettings, counts: np.ndarray) -> None:
        period = self.inputs.periods[self.k]
        days = period.end - period.start
        occupancy = self.engine.unit_occupancy[self.k, 1, : len(settings.sop_beds)] / days
        for agent in self.agents:
            agent.decides = False
            agent.sop_beds_per_1000 = float(
                settings.sop_beds[agent.members].sum() / max(agent.patients, 1) * 1000
            )
            agent.ht_slots_per_1000 = float(
                settings.ht_slots[agent.members].sum() / max(agent.patients, 1) * 1000
            )
        rv = self.scenario.regime.reform
        for agent in self.deciders():
            agent.decides = True
            per_delay, per_block = self.own_costs(agent)
            beds = settings.sop_beds[agent.members].sum()
            budget = self.scenario.organisations.budget.budget_dkk_per_1000_year.value
            if agent.kind == "council" and lever_on(
                self.scenario, "investment_engine", period.first_date
            ):
                budget += rv.investment_dkk_per_1000_year.value
            obs = Observation(
                period_days=days,
                patients=agent.patients,
                sop_beds_per_1000=agent.sop_beds_per_1000,
                ht_slots_per_1000=agent.ht_slots_per_1000,
                sop_occupancy=float(occupancy[agent.members].sum() / beds) if beds else 1.0,
                delayed_discharge_days=float(agent.observed[C["delayed_discharge_days"]]),
                stepup_blocked=float(agent.observed[C["stepup_blocked"]]),
                mean_stay_days=float(
                    agent.observed[C["hospital_bed_days"]]
                    / max(agent.observed[C["discharges"]], 1.0)
                ),
                cost_per_delayed_day=per_delay,
                cost_per_blocked_stepup=per_block,
                sop_bed_day_dkk=self.scenario.costs.sop_bed_day_dkk.value,
                ht_day_dkk=self.scenario.costs.home_treatment_day_dkk.value,
                budget_dkk_per_1000_year=budget,
            )
            agent.shortage_cost_dkk = (
                obs.delayed_discharge_days * per_delay + obs.stepup_blocked * per_block
            )
            decision: Decision = self.rule(agent, obs, self.scenario)
            if decision.sop_beds_per_1000 is not None:
                if self.sop_rate is None:
                    self.sop_rate = settings.sop_beds / np.maximum(self.cohort_by_muni, 1) * 1000.0
                self.sop_rate[agent.members] = decision.sop_beds_per_1000
            if decision.ht_slots_per_1000 is not None:
                if self.ht_rate is None:
                    self.ht_rate = settings.ht_slots / np.maximum(self.cohort_by_muni, 1) * 1000.0
                self.ht_rate[agent.members] = decision.ht_slots_per_1000
            agent.decision = _describe(agent.sop_beds_per_1000, decision.sop_beds_per_1000)

    def agent_table(self, scenario: str, replication: int, draw: int) -> pl.DataFrame:
        """DataCollector output as a tidy table (one row per agent × period)."""
        df = pl.from_pandas(self.datacollector.get_agent_vars_dataframe().reset_index())
        labels = [p.label for p in self.inputs.periods]
        return df.select(
            pl.lit(scenario).alias("scenario"),
            pl.lit(draw, dtype=pl.Int64).alias("draw"),
            pl.lit(replication, dtype=pl.Int64).alias("replication"),
            pl.col("Step")
            .map_elements(lambda s: labels[s - 1], return_dtype=pl.String)
            .alias("period"),
            "agent_type",
            "agent",
            "decides",
            "sop_beds_per_1000",
            "ht_slots_per_1000",
            "net_cost_dkk",
            "shortage_cost_dkk",
            "decision",
        )


def _describe(before: float, after: float | None) -> str:
    if after is None or abs(after - before) < 1e-9:
        return "keep"
    return "invest" if after > before else "cut"
