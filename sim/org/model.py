"""The coupled model: Mesa organisation agents on the planning clock drive the flow core.

Each `step()` is one planning period: the flow runs with the capacities in force; every
agent observes its area's counts and costs (the regime's money flows, settled into the
agents' ledgers); the regions that fund the operators allocate their budgets; and the
agents that run intermediate-care beds and teams (municipalities today, health councils
once `regional_beds` acts with `bed_operator: council`) decide next period's capacity by
the configured rule. Capacity is held as integer counts per municipality
(`HealthSystem.sop_beds`, `ht_slots`), set once from the configured rates and then only
changed by decisions and by levers that change the configured capacity (docs/model.md
section 7).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
import polars as pl

from sim.config.schema import Scenario
from sim.constants import DAYS_PER_YEAR
from sim.errors import Problem, RuleError
from sim.flow.counters import C
from sim.flow.inputs import FlowInputs, PeriodSettings, cohort_per_unit
from sim.flow.provided import add_provided
from sim.measures import COUNTERS
from sim.org.mesa_import import mesa
from sim.org.rules import Decision, Observation, Rule
from sim.regime.costs import PAYERS, cost_to, money_flows, net_cost_columns
from sim.regime.levers import bed_operator, build_period_settings, lever_on


@dataclass(frozen=True)
class OwnCosts:
    """What a shortage costs a decider, priced by the money flows that settle the period."""

    delayed_day: float  # a delayed-discharge day (early and late days in last period's mix)
    delayed_day_early: float  # a delayed day in the first days of a wait
    delayed_day_late: float  # a delayed day later in the wait
    admission: float  # an acute admission with its mean stay
    blocked_ht: float  # an episode that found no home-treatment place
    blocked_followup: float  # a discharge that found no follow-up place
    bed_day: float  # one more intermediate-care bed for a day, used at last period's occupancy
    place_day: float  # one more home-treatment team place for a day, likewise


class Organisation(mesa.Agent):
    """An area's organisation: members (municipality indices), a ledger, what it observed."""

    kind = "organisation"

    def __init__(self, model: HealthSystem, name: str, members: np.ndarray):
        super().__init__(model)
        self.name = name
        self.members = members
        self.patients = float(model.cohort_by_muni[members].sum())
        self.observed = np.zeros(len(COUNTERS))
        self.estimate: dict[str, float] = {}
        self.net_cost_dkk = 0.0
        self.shortage_cost_dkk = 0.0
        self.sop_beds = 0
        self.ht_slots = 0
        self.sop_beds_per_1000 = 0.0
        self.ht_slots_per_1000 = 0.0
        self.budget_dkk = 0.0
        self.budget_capped = False
        self.decides = False
        self.decision = ""
        self.ht_decision = ""

    @property
    def payer(self) -> str:
        return "region"

    def observe(self, counts: np.ndarray, costs: dict[str, np.ndarray]) -> None:
        """Sum the period's counts (municipality × counter) and own payer's costs over members,
        note the capacity in force and update the smoothed estimate of demand."""
        m = self.model
        settings = m.applied[-1]
        days = m.period_days
        self.observed = counts[self.members].sum(axis=0)
        self.net_cost_dkk = float(costs[self.payer][self.members].sum())
        self.sop_beds = int(settings.sop_beds[self.members].sum())
        self.ht_slots = int(settings.ht_slots[self.members].sum())
        self.sop_beds_per_1000 = self.sop_beds / max(self.patients, 1.0) * 1000.0
        self.ht_slots_per_1000 = self.ht_slots / max(self.patients, 1.0) * 1000.0
        self.budget_dkk = m.own_budget(self)
        self.budget_capped = False
        self.decides = False
        self.decision = self.ht_decision = ""
        self._smooth(days)

    def _smooth(self, days: float) -> None:
        """Exponential smoothing of the demand a decider plans with (per day)."""
        o, st = self.observed, self.model.scenario.settings
        blocked_up = o[C["stepup_blocked"]]
        stepdowns = o[C["sop_stepdowns"]]
        raw = {
            "sop_load": (
                o[C["sop_bed_days"]]
                + o[C["delayed_discharge_days"]]
                + blocked_up * st.sop.stepup_mean_days.value
            )
            / days,
            "stepup": (o[C["sop_admissions"]] - stepdowns + blocked_up) / days,
            # step-downs placed, or (with no bed free all period) the discharges that began
            # to wait: a patient who waits for ever still wants a bed
            "stepdown": max(stepdowns, o[C["delayed_discharges"]]) / days,
            "sop_days": o[C["sop_bed_days"]] / days,
            "sop_admissions": o[C["sop_admissions"]] / days,
            "ht_load": (
                o[C["ht_days"]]
                + o[C["ht_blocked"]] * st.home_treatment.episode_mean_days.value
                + o[C["followup_blocked"]] * st.home_treatment.followup_mean_days.value
            )
            / days,
            "ht": (o[C["home_treatment_episodes"]] + o[C["ht_blocked"]]) / days,
            "followup": (o[C["home_followups"]] + o[C["followup_blocked"]]) / days,
        }
        w = self.model.scenario.organisations.demand_smoothing.value
        if not self.estimate:
            self.estimate = {k: float(v) for k, v in raw.items()}
        else:
            self.estimate = {k: w * float(v) + (1 - w) * self.estimate[k] for k, v in raw.items()}

    def observation(self) -> Observation:
        """What this decider sees of the last period, priced at its own costs."""
        m, o, e = self.model, self.observed, self.estimate
        days = m.period_days
        prices = m.own_costs(self)
        occupancy = m.engine.unit_occupancy[m.k]  # (kind, unit); units are municipalities
        sop_used = float(occupancy[1, self.members].sum()) / days
        ht_used = float(occupancy[2, self.members].sum()) / days
        stay = (
            e["sop_days"] / e["sop_admissions"]
            if e["sop_admissions"] > 0
            else m.scenario.settings.sop.stepdown_mean_days.value
        )
        costs = m.scenario.costs
        return Observation(
            period_days=days,
            patients=self.patients,
            sop_beds_per_1000=self.sop_beds_per_1000,
            ht_slots_per_1000=self.ht_slots_per_1000,
            sop_occupancy=sop_used / self.sop_beds if self.sop_beds else 1.0,
            delayed_discharge_days=float(o[C["delayed_discharge_days"]]),
            stepup_blocked=float(o[C["stepup_blocked"]]),
            mean_stay_days=float(o[C["hospital_bed_days"]] / max(o[C["discharges"]], 1.0)),
            cost_per_delayed_day=prices.delayed_day,
            cost_per_blocked_stepup=prices.admission,
            sop_bed_day_dkk=prices.bed_day,
            ht_day_dkk=prices.place_day,
            budget_dkk_per_1000_year=self.budget_dkk
            / max(self.patients, 1.0)
            * 1000.0
            * DAYS_PER_YEAR
            / days,
            sop_beds=self.sop_beds,
            ht_slots=self.ht_slots,
            ht_occupancy=ht_used / self.ht_slots if self.ht_slots else 1.0,
            ht_blocked=float(o[C["ht_blocked"]]),
            followup_blocked=float(o[C["followup_blocked"]]),
            cost_per_delayed_day_early=prices.delayed_day_early,
            cost_per_delayed_day_late=prices.delayed_day_late,
            late_after_days=costs.delayed_discharge_step_days.value,
            cost_per_blocked_ht=prices.blocked_ht,
            cost_per_blocked_followup=prices.blocked_followup,
            sop_load=e["sop_load"],
            stepup_per_day=e["stepup"],
            stepdown_per_day=e["stepdown"],
            sop_stay_days=stay,
            ht_load=e["ht_load"],
            ht_per_day=e["ht"],
            followup_per_day=e["followup"],
            budget_dkk=self.budget_dkk,
            budget_capped=self.budget_capped,
        )


class Decider(Organisation):
    """An organisation that can run intermediate-care beds and home-treatment teams."""

    def decide(self) -> None:
        """Choose next period's capacity for the own area with the configured rule."""
        m = self.model
        self.decides = True
        obs = self.observation()
        self.shortage_cost_dkk = (
            obs.delayed_discharge_days * obs.cost_per_delayed_day
            + obs.stepup_blocked * obs.cost_per_blocked_stepup
            + obs.ht_blocked * obs.cost_per_blocked_ht
            + obs.followup_blocked * obs.cost_per_blocked_followup
        )
        decision = m.rule(self, obs, m.scenario)
        beds = _count(decision, "sop_beds", self.patients)
        places = _count(decision, "ht_slots", self.patients)
        self.decision = _describe(self.sop_beds, beds)
        self.ht_decision = _describe(self.ht_slots, places)
        if beds is not None and beds != self.sop_beds:
            m.sop_beds[self.members] = share_out(beds, m.cohort_by_muni[self.members])
        if places is not None and places != self.ht_slots:
            m.ht_slots[self.members] = share_out(places, m.cohort_by_muni[self.members])


class Municipality(Decider):
    kind = "municipality"

    @property
    def payer(self) -> str:
        return "municipality"


class HealthCouncil(Decider):
    kind = "council"


class Region(Organisation):
    """A region: today's five (`kind` region) or the reform's four (`region_reform`). Under
    the reform a reform region funds the operators of beds and teams in its area."""

    def __init__(self, model: HealthSystem, name: str, members: np.ndarray, reform: bool):
        super().__init__(model, name, members)
        self.reform = reform
        self.kind = "region_reform" if reform else "region"

    def observe(self, counts: np.ndarray, costs: dict[str, np.ndarray]) -> None:
        super().observe(counts, costs)
        self.budget_dkk = 0.0  # set when it allocates

    def allocate(self, deciders: mesa.agent.AgentSet) -> None:
        """Give each operator in the area its budget for the next period: its share of the
        beds-and-teams budget plus, when `investment_engine` acts, a share of the money the
        region received from the state last period, in proportion to simulated patients.
        A health council's investment is capped by this budget."""
        m = self.model
        if not (self.reform and m.regions_fund()):
            return
        mine = deciders.select(lambda a: bool(np.isin(a.members, self.members).all()))
        received = m.investment_received(self)
        council = bed_operator(m.scenario, m.period.first_date) == "council"
        for agent in mine:
            agent.budget_dkk = agent.budget_dkk + received * agent.patients / max(self.patients, 1)
            agent.budget_capped = council
        self.budget_dkk = sum(a.budget_dkk for a in mine)
        self.decision = "allocate"


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
        for reform, names, of in (
            (False, geo.regions_current, geo.region_current_of),
            (True, geo.regions_reform, geo.region_reform_of),
        ):
            for r, name in enumerate(names):
                members = np.flatnonzero(of == r)
                if members.size:
                    Region(self, name, members, reform)
        # capacity in force per municipality (counts); set from the configured rates in the
        # first period, then changed only by decisions and by changes of the configuration
        self.sop_beds: np.ndarray | None = None
        self.ht_slots: np.ndarray | None = None
        self._configured: PeriodSettings | None = None
        self.datacollector = mesa.DataCollector(
            agent_reporters={
                "agent_type": "kind",
                "agent": "name",
                "decides": "decides",
                "sop_beds": "sop_beds",
                "ht_slots": "ht_slots",
                "sop_beds_per_1000": "sop_beds_per_1000",
                "ht_slots_per_1000": "ht_slots_per_1000",
                "net_cost_dkk": "net_cost_dkk",
                "shortage_cost_dkk": "shortage_cost_dkk",
                "budget_dkk": "budget_dkk",
                "decision": "decision",
                "ht_decision": "ht_decision",
            }
        )

    # ------------------------------------------------------------------ settings
    @property
    def period(self):
        return self.inputs.periods[self.k]

    @property
    def period_days(self) -> float:
        return self.period.end - self.period.start

    def deciders(self) -> mesa.agent.AgentSet:
        """The operators of beds and teams this period: municipalities or health councils."""
        operator = bed_operator(self.scenario, self.period.first_date)
        return self.agents_by_type[HealthCouncil if operator == "council" else Municipality]

    def regions_fund(self) -> bool:
        """Regions fund the operators once the councils run the beds or investment-engine
        money flows through them."""
        date = self.period.first_date
        return bed_operator(self.scenario, date) == "council" or lever_on(
            self.scenario, "investment_engine", date
        )

    def settings(self) -> PeriodSettings:
        """The configured settings of this period, with the capacity counts in force. A lever
        that changes the configured capacity (e.g. `teams_24_7`'s places) changes the counts
        in force by the same number of places when it starts to act."""
        configured = build_period_settings(self.scenario, self.inputs, self.period)
        if self.sop_beds is None or self.ht_slots is None or self._configured is None:
            self.sop_beds = configured.sop_beds.copy()
            self.ht_slots = configured.ht_slots.copy()
        else:
            before = self._configured
            self.sop_beds = np.maximum(self.sop_beds + configured.sop_beds - before.sop_beds, 0)
            self.ht_slots = np.maximum(self.ht_slots + configured.ht_slots - before.ht_slots, 0)
        self._configured = configured
        return configured.with_(sop_beds=self.sop_beds.copy(), ht_slots=self.ht_slots.copy())

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
        add_provided(self.engine.counts[self.k], settings, self.period_days)
        counts = self.engine.counts[self.k].sum(axis=1)  # municipality × counter
        costs = self.settle(counts)
        self.agents.do("observe", counts, costs)
        deciders = self.deciders()
        self.agents_by_type[Region].do("allocate", deciders)
        deciders.do("decide")
        self.datacollector.collect(self)
        self.k += 1

    def settle(self, counts: np.ndarray) -> dict[str, np.ndarray]:
        """Net cost per payer and municipality for the period, from the regime's money flows."""
        frame = pl.DataFrame({name: counts[:, C[name]] for name in COUNTERS})
        flows = money_flows(self.scenario, self.period)
        net = frame.select(net_cost_columns(flows))
        return {payer: net[f"cost_{payer}_dkk"].to_numpy() for payer in PAYERS}

    def own_budget(self, agent: Organisation) -> float:
        """An operator's own money for beds and teams in this period (before any region's
        allocation): `organisations.budget.budget_dkk_per_1000_year` for its patients."""
        rate = self.scenario.organisations.budget.budget_dkk_per_1000_year.value
        return rate * agent.patients / 1000.0 * self.period_days / DAYS_PER_YEAR

    def investment_received(self, region: Organisation) -> float:
        """The investment-engine money the region received for this period (by the flows)."""
        flows = money_flows(self.scenario, self.period)
        return sum(
            f.price * float(region.observed[C[f.counter]])
            for f in flows
            if f.name == "investment_engine" and f.payee == "region"
        )

    def own_costs(self, agent: Organisation) -> OwnCosts:
        """What a delayed day, an admission, an episode or follow-up turned away from home
        treatment, and one more bed or team place cost this decider, priced by the money
        flows that settle the period (`regime.costs.cost_to`)."""
        flows = money_flows(self.scenario, self.period)
        obs = agent.observed
        stay = obs[C["hospital_bed_days"]] / max(obs[C["discharges"]], 1.0)
        late = obs[C["delayed_discharge_days_late"]] / max(obs[C["delayed_discharge_days"]], 1.0)
        delayed_day = {
            "hospital_bed_days": 1.0,
            "delayed_discharge_days": 1.0,
            "delayed_discharge_days_late": late,
        }
        admission = cost_to(
            flows, agent.payer, {"admissions": 1.0, "hospital_bed_days": stay, "discharges": 1.0}
        )
        # a follow-up at home lowers the excess episodes after discharge by (1 − hr); the
        # share of episodes that end in an admission turns them into readmissions
        post = self.scenario.episodes.post_discharge
        admitted = obs[C["admissions"]] / max(obs[C["episodes"]], 1.0)
        readmissions = post.excess_episodes.value * (1.0 - post.hr_home_followup.value) * admitted
        early = {"hospital_bed_days": 1.0, "delayed_discharge_days": 1.0}
        # one more bed (place) for a day: provided in full, occupied as the last period's
        # were (user payments received net), on duty the hours the teams are on duty
        settings = self.applied[-1]
        members = agent.members
        sop_used = obs[C["sop_bed_days"]] / max(obs[C["sop_bed_days_provided"]], 1e-9)
        ht_used = obs[C["ht_days"]] / max(obs[C["ht_place_days_provided"]], 1e-9)
        duty = float(np.clip(settings.ht_duty_hours[members], 0.0, 24.0).mean()) / 24.0
        bed_day = {"sop_bed_days_provided": 1.0, "sop_bed_days": min(sop_used, 1.0)}
        place_day = {
            "ht_place_days_provided": 1.0,
            "ht_duty_place_days": duty,
            "ht_days": min(ht_used, 1.0),
        }
        return OwnCosts(
            delayed_day=cost_to(flows, agent.payer, delayed_day),
            delayed_day_early=cost_to(flows, agent.payer, early),
            delayed_day_late=cost_to(
                flows, agent.payer, {**early, "delayed_discharge_days_late": 1.0}
            ),
            admission=admission,
            blocked_ht=admission,
            blocked_followup=max(readmissions, 0.0) * admission,
            bed_day=cost_to(flows, agent.payer, bed_day),
            place_day=cost_to(flows, agent.payer, place_day),
        )

    def agent_table(self, scenario: str, replication: int, draw: int) -> pl.DataFrame:
        """DataCollector output as a tidy table (one row per agent × period).

        Read from the collector's records, as its own `get_agent_vars_dataframe` does, but
        into polars directly: the pandas detour cost every process a third of a second."""
        collector = self.datacollector
        df = pl.DataFrame(
            list(itertools.chain.from_iterable(collector._agent_records.values())),
            schema=["Step", "AgentID", *collector.agent_reporters],
            orient="row",
            infer_schema_length=None,
        )
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
            pl.col("sop_beds").cast(pl.Int64),
            pl.col("ht_slots").cast(pl.Int64),
            "sop_beds_per_1000",
            "ht_slots_per_1000",
            "net_cost_dkk",
            "shortage_cost_dkk",
            "budget_dkk",
            "decision",
            "ht_decision",
        )


def share_out(total: int, weights: np.ndarray) -> np.ndarray:
    """Split a count over members in proportion to `weights` (largest remainder; ties to
    the earlier member), so the parts are integers that sum to `total`."""
    weights = np.asarray(weights, dtype=np.float64)
    if weights.size == 1:
        return np.array([total], dtype=np.int64)
    if weights.sum() <= 0:
        weights = np.ones_like(weights)
    quota = total * weights / weights.sum()
    parts = np.floor(quota).astype(np.int64)
    left = int(total - parts.sum())
    order = np.argsort(-(quota - parts), kind="stable")
    parts[order[:left]] += 1
    return parts


def _count(decision: object, what: str, patients: float) -> int | None:
    """The count a decision asks for (a count, or a rate per 1,000 rounded once)."""
    field = "organisations.decision_rule"
    if not isinstance(decision, Decision):
        raise RuleError(
            [Problem(None, None, field, f"the rule returned {decision!r}, not a Decision")]
        )
    count = getattr(decision, what)
    if count is None:
        rate = getattr(decision, f"{what}_per_1000")
        if rate is None:
            return None
        count = float(rate) * patients / 1000.0
    if not math.isfinite(float(count)):
        raise RuleError([Problem(None, None, field, f"the rule returned {what} = {count!r}")])
    return max(0, round(float(count)))


def _describe(before: int, after: int | None) -> str:
    if after is None or after == before:
        return "keep"
    return "invest" if after > before else "cut"
