"""
The coaching practice's own method, as data.

When the coach records the kickoff, the platform offers the situations the practice works with
(a new post, moving from doing to steering, managing managers, becoming a force of proposal) and
the traps it helps to avoid. Each one suggests objectives with success indicators, which the coach
and the coachee then reword into their own.

Objectives end up in the signed convention, which is written in the engagement's language, not in
the language of whoever is looking at the page. The wording is therefore carried here in both
languages explicitly, instead of going through gettext: French is the primary wording, English a
faithful rendering of it.
"""

from dataclasses import dataclass

LANGUAGES = ("fr", "en")
DEFAULT_LANGUAGE = "fr"

SITUATION = "situation"
TRAP = "trap"


@dataclass(frozen=True)
class Suggestion:
    """A suggested objective, with how its success would be recognised."""

    key: str
    title: dict[str, str]
    indicators: dict[str, str]


@dataclass(frozen=True)
class Theme:
    """A situation the practice works with, or a trap it helps to avoid."""

    key: str
    kind: str
    name: dict[str, str]
    description: dict[str, str]
    suggestions: tuple[Suggestion, ...]


THEMES: tuple[Theme, ...] = (
    # --- Situations ------------------------------------------------------------------------------
    Theme(
        key="new-post",
        kind=SITUATION,
        name={
            "fr": "Sécuriser une prise de poste",
            "en": "Securing a new post",
        },
        description={
            "fr": (
                "Les premiers mois dans un nouveau poste : comprendre les attentes, asseoir sa "
                "légitimité et obtenir de premiers résultats visibles, sans se précipiter."
            ),
            "en": (
                "The first months in a new post: understanding what is expected, establishing "
                "one's legitimacy and delivering early, visible results without rushing."
            ),
        },
        suggestions=(
            Suggestion(
                key="new-post-first-90-days",
                title={
                    "fr": (
                        "Clarifier les attentes liées au poste et construire un plan des "
                        "90 premiers jours partagé avec sa hiérarchie"
                    ),
                    "en": (
                        "Clarify what the post requires and build a 90-day plan shared with "
                        "one's line management"
                    ),
                },
                indicators={
                    "fr": (
                        "D'ici un mois : les attentes prioritaires de la hiérarchie, des pairs et "
                        "de l'équipe sont recueillies et formalisées. D'ici trois mois : le plan "
                        "est validé en entretien avec la hiérarchie, et deux premiers résultats "
                        "concrets sont obtenus et reconnus."
                    ),
                    "en": (
                        "Within one month: the main expectations of line management, peers and "
                        "the team are gathered and written down. Within three months: the plan "
                        "has been validated in a meeting with line management, and two first "
                        "concrete results have been achieved and acknowledged."
                    ),
                },
            ),
            Suggestion(
                key="new-post-key-relationships",
                title={
                    "fr": (
                        "Tisser en six mois des relations de confiance avec ses interlocuteurs "
                        "clés, en interne comme en externe"
                    ),
                    "en": (
                        "Build, within six months, relationships of trust with one's key "
                        "counterparts, inside and outside the organisation"
                    ),
                },
                indicators={
                    "fr": (
                        "D'ici deux mois : une cartographie des parties prenantes est établie et "
                        "un entretien individuel a eu lieu avec chaque personne clé. D'ici six "
                        "mois : des points réguliers sont installés avec les interlocuteurs "
                        "prioritaires, qui sollicitent spontanément la personne coachée sur les "
                        "sujets importants."
                    ),
                    "en": (
                        "Within two months: a stakeholder map is drawn up and a one-to-one "
                        "meeting has been held with each key person. Within six months: regular "
                        "check-ins are in place with the priority counterparts, who spontaneously "
                        "turn to the coachee on important matters."
                    ),
                },
            ),
            Suggestion(
                key="new-post-legitimacy",
                title={
                    "fr": (
                        "Asseoir sa légitimité auprès de l'équipe en posant un cap clair et des "
                        "règles de fonctionnement partagées"
                    ),
                    "en": (
                        "Establish one's legitimacy with the team by setting a clear direction "
                        "and shared ways of working"
                    ),
                },
                indicators={
                    "fr": (
                        "D'ici trois mois : le cap et les priorités sont présentés à l'équipe, qui "
                        "sait les reformuler ; les règles de fonctionnement (réunions, délégation, "
                        "circuits de décision) sont écrites et appliquées. À mi-parcours : "
                        "l'équipe et la hiérarchie confirment la clarté du cap."
                    ),
                    "en": (
                        "Within three months: the direction and priorities have been presented "
                        "to the team, who can restate them; the ways of working (meetings, "
                        "delegation, decision paths) are written down and applied. At mid-point: "
                        "the team and line management confirm the direction is clear."
                    ),
                },
            ),
        ),
    ),
    Theme(
        key="doing-to-steering",
        kind=SITUATION,
        name={
            "fr": "Passer du « faire » au « faire-faire »",
            "en": "Moving from doing to steering",
        },
        description={
            "fr": (
                "Passer d'une posture de production, où l'on fait soi-même, à une posture de "
                "pilotage : confier, organiser, suivre et faire grandir l'équipe."
            ),
            "en": (
                "Shifting from doing the work oneself to steering it: entrusting, organising, "
                "following up and helping the team grow."
            ),
        },
        suggestions=(
            Suggestion(
                key="steering-delegate",
                title={
                    "fr": (
                        "Déléguer des dossiers à forte valeur à son équipe, en précisant pour "
                        "chacun le résultat attendu, le niveau d'autonomie et les points de suivi"
                    ),
                    "en": (
                        "Delegate high-value assignments to one's team, specifying for each the "
                        "expected result, the degree of autonomy and the check-in points"
                    ),
                },
                indicators={
                    "fr": (
                        "D'ici trois mois : au moins trois dossiers significatifs sont délégués, "
                        "chacun avec un cadre écrit (résultat attendu, marges de manœuvre, "
                        "échéances). D'ici six mois : ces dossiers avancent sans reprise en main, "
                        "et le temps consacré à la production directe a baissé d'un tiers, "
                        "d'après l'agenda."
                    ),
                    "en": (
                        "Within three months: at least three significant assignments are "
                        "delegated, each with a written frame (expected result, room for "
                        "manoeuvre, deadlines). Within six months: they progress without being "
                        "taken back, and the time spent doing the work directly has fallen by a "
                        "third, as shown by the calendar."
                    ),
                },
            ),
            Suggestion(
                key="steering-dashboard",
                title={
                    "fr": (
                        "Installer un pilotage de l'activité fondé sur quelques indicateurs clés "
                        "et des rituels d'équipe réguliers"
                    ),
                    "en": (
                        "Set up a way of steering the activity based on a few key indicators and "
                        "regular team routines"
                    ),
                },
                indicators={
                    "fr": (
                        "D'ici deux mois : un tableau de bord de cinq à sept indicateurs est "
                        "défini avec l'équipe. D'ici quatre mois : une revue hebdomadaire de "
                        "trente minutes se tient à date fixe, et les écarts y sont traités plutôt "
                        "qu'au fil de l'eau. Au bilan : le reporting à la hiérarchie s'appuie sur "
                        "ce tableau de bord."
                    ),
                    "en": (
                        "Within two months: a dashboard of five to seven indicators is defined "
                        "with the team. Within four months: a thirty-minute weekly review is held "
                        "at a fixed time, and deviations are dealt with there rather than as they "
                        "come. At closing: reporting to line management relies on this dashboard."
                    ),
                },
            ),
            Suggestion(
                key="steering-team-autonomy",
                title={
                    "fr": (
                        "Développer l'autonomie de son équipe en consacrant un temps régulier à "
                        "l'accompagnement individuel"
                    ),
                    "en": (
                        "Develop the team's autonomy by devoting regular time to one-to-one support"
                    ),
                },
                indicators={
                    "fr": (
                        "D'ici trois mois : un entretien individuel mensuel se tient avec chaque "
                        "membre de l'équipe, avec un objectif de développement par personne. "
                        "D'ici neuf mois : les demandes d'arbitrage sur des questions techniques "
                        "ont diminué de moitié, et une personne de l'équipe représente le service "
                        "dans une instance où la personne coachée siégeait seule."
                    ),
                    "en": (
                        "Within three months: a monthly one-to-one is held with each team member, "
                        "with one development goal per person. Within nine months: requests to "
                        "settle technical questions have halved, and a team member represents the "
                        "department in a forum where the coachee used to sit alone."
                    ),
                },
            ),
        ),
    ),
    Theme(
        key="manager-of-managers",
        kind=SITUATION,
        name={
            "fr": "Affirmer sa place de manager de managers",
            "en": "Asserting one's place as a manager of managers",
        },
        description={
            "fr": (
                "Trouver sa juste place au-dessus d'autres managers : donner le cap, soutenir "
                "sans se substituer et faire fonctionner une véritable équipe de direction."
            ),
            "en": (
                "Finding one's rightful place above other managers: setting the direction, "
                "supporting without taking over, and making a real leadership team work."
            ),
        },
        suggestions=(
            Suggestion(
                key="managers-leadership-team",
                title={
                    "fr": (
                        "Constituer une équipe de direction qui décide collectivement et porte "
                        "des priorités communes"
                    ),
                    "en": (
                        "Build a leadership team that makes decisions collectively and carries "
                        "shared priorities"
                    ),
                },
                indicators={
                    "fr": (
                        "D'ici trois mois : un comité de direction se réunit à rythme fixe, avec "
                        "un ordre du jour centré sur les décisions. D'ici six mois : les priorités "
                        "communes sont formalisées, chaque membre les relaie auprès de sa propre "
                        "équipe, et les arbitrages transverses sont rendus en comité plutôt qu'en "
                        "bilatéral."
                    ),
                    "en": (
                        "Within three months: a leadership committee meets at a fixed rhythm, "
                        "with an agenda focused on decisions. Within six months: the shared "
                        "priorities are written down, each member relays them to their own team, "
                        "and cross-cutting trade-offs are settled in committee rather than "
                        "one-to-one."
                    ),
                },
            ),
            Suggestion(
                key="managers-management-line",
                title={
                    "fr": (
                        "Respecter la ligne managériale en agissant à travers ses managers plutôt "
                        "qu'en intervenant directement auprès de leurs équipes"
                    ),
                    "en": (
                        "Respect the management line by acting through one's managers rather than "
                        "stepping in directly with their teams"
                    ),
                },
                indicators={
                    "fr": (
                        "D'ici trois mois : les règles de délégation et d'escalade sont "
                        "explicitées avec chaque manager. D'ici six mois : les interventions "
                        "directes auprès des équipes sont devenues exceptionnelles et annoncées "
                        "au manager concerné ; les managers disent se sentir soutenus et non "
                        "court-circuités."
                    ),
                    "en": (
                        "Within three months: the rules for delegation and escalation are made "
                        "explicit with each manager. Within six months: stepping in directly with "
                        "the teams has become the exception and is announced to the manager "
                        "concerned; the managers say they feel supported, not bypassed."
                    ),
                },
            ),
            Suggestion(
                key="managers-develop-managers",
                title={
                    "fr": (
                        "Faire grandir ses managers dans leur rôle par des entretiens réguliers "
                        "consacrés à leur pratique managériale"
                    ),
                    "en": (
                        "Help one's managers grow in their role through regular one-to-ones "
                        "devoted to their management practice"
                    ),
                },
                indicators={
                    "fr": (
                        "D'ici deux mois : un entretien mensuel est installé avec chaque manager, "
                        "centré sur sa pratique managériale et non sur le suivi opérationnel. "
                        "D'ici neuf mois : chaque manager dispose d'un axe de développement écrit "
                        "et partagé, et des progrès sont constatés pour au moins la moitié "
                        "d'entre eux."
                    ),
                    "en": (
                        "Within two months: a monthly one-to-one is in place with each manager, "
                        "focused on their management practice rather than operational follow-up. "
                        "Within nine months: each manager has a written, shared development area, "
                        "and progress is seen for at least half of them."
                    ),
                },
            ),
        ),
    ),
    Theme(
        key="innovation",
        kind=SITUATION,
        name={
            "fr": "Devenir force de proposition et d'innovation",
            "en": "Becoming a source of proposals and innovation",
        },
        description={
            "fr": (
                "Dépasser un rôle de mise en œuvre pour contribuer à la stratégie : faire émerger "
                "des idées, les instruire et les mener à bien."
            ),
            "en": (
                "Going beyond carrying out decisions to contributing to strategy: bringing ideas "
                "forward, building the case for them and seeing them through."
            ),
        },
        suggestions=(
            Suggestion(
                key="innovation-proposals",
                title={
                    "fr": (
                        "Porter auprès de la direction des propositions argumentées qui dépassent "
                        "le périmètre de son équipe"
                    ),
                    "en": (
                        "Bring well-argued proposals to senior management that go beyond the "
                        "scope of one's own team"
                    ),
                },
                indicators={
                    "fr": (
                        "D'ici six mois : au moins deux propositions structurées (enjeux, options, "
                        "coûts, risques) sont présentées en comité de direction. D'ici douze "
                        "mois : au moins l'une d'elles est adoptée et lancée, et la personne "
                        "coachée en est identifiée comme porteuse."
                    ),
                    "en": (
                        "Within six months: at least two structured proposals (stakes, options, "
                        "costs, risks) have been presented to the executive committee. Within "
                        "twelve months: at least one of them has been adopted and launched, with "
                        "the coachee recognised as its owner."
                    ),
                },
            ),
            Suggestion(
                key="innovation-thinking-time",
                title={
                    "fr": (
                        "Se réserver chaque mois un temps protégé de réflexion prospective, "
                        "individuellement et avec son équipe"
                    ),
                    "en": (
                        "Set aside protected time each month for forward thinking, both alone and "
                        "with one's team"
                    ),
                },
                indicators={
                    "fr": (
                        "D'ici deux mois : une demi-journée par mois est bloquée dans l'agenda et "
                        "effectivement tenue. D'ici six mois : un atelier d'idées trimestriel est "
                        "organisé avec l'équipe ; au moins trois pistes en sont issues, dont une "
                        "est expérimentée."
                    ),
                    "en": (
                        "Within two months: half a day a month is blocked in the calendar and "
                        "actually kept. Within six months: a quarterly ideas workshop is held "
                        "with the team; at least three leads have come out of it, one of which is "
                        "being tested."
                    ),
                },
            ),
            Suggestion(
                key="innovation-cross-functional-pilot",
                title={
                    "fr": (
                        "Piloter une expérimentation transverse en mobilisant des pairs d'autres "
                        "directions"
                    ),
                    "en": "Lead a cross-functional pilot, bringing in peers from other departments",
                },
                indicators={
                    "fr": (
                        "D'ici quatre mois : l'expérimentation est cadrée (objectif, périmètre, "
                        "critères d'évaluation) avec au moins deux directions partenaires. D'ici "
                        "dix mois : ses résultats sont présentés à la direction avec une "
                        "recommandation de généralisation ou d'arrêt."
                    ),
                    "en": (
                        "Within four months: the pilot is framed (goal, scope, evaluation "
                        "criteria) with at least two partner departments. Within ten months: its "
                        "results are presented to senior management with a recommendation to "
                        "roll it out or stop it."
                    ),
                },
            ),
        ),
    ),
    # --- Traps -----------------------------------------------------------------------------------
    Theme(
        key="trap-grindstone",
        kind=TRAP,
        name={
            "fr": "« Le nez dans le guidon »",
            "en": "Nose to the grindstone",
        },
        description={
            "fr": (
                "Quand l'urgence et l'opérationnel absorbent tout le temps disponible, le recul "
                "nécessaire pour anticiper, piloter et décider disparaît."
            ),
            "en": (
                "When urgent and operational matters take up all the available time, the "
                "perspective needed to anticipate, steer and decide is lost."
            ),
        },
        suggestions=(
            Suggestion(
                key="grindstone-weekly-step-back",
                title={
                    "fr": (
                        "Instaurer un temps hebdomadaire de prise de recul pour revoir ses "
                        "priorités et anticiper"
                    ),
                    "en": (
                        "Introduce a weekly time to step back, review one's priorities and "
                        "look ahead"
                    ),
                },
                indicators={
                    "fr": (
                        "D'ici un mois : un créneau hebdomadaire d'une heure est réservé et tenu "
                        "au moins trois semaines sur quatre. D'ici trois mois : les priorités de "
                        "la semaine sont écrites chaque lundi, et la part du temps absorbée par "
                        "des urgences imprévues est suivie et en baisse."
                    ),
                    "en": (
                        "Within one month: a one-hour weekly slot is booked and kept at least "
                        "three weeks out of four. Within three months: the week's priorities are "
                        "written down every Monday, and the share of time taken up by unplanned "
                        "emergencies is tracked and falling."
                    ),
                },
            ),
            Suggestion(
                key="grindstone-calendar",
                title={
                    "fr": (
                        "Reprendre la maîtrise de son agenda en consacrant au moins un tiers de "
                        "son temps aux sujets à enjeu"
                    ),
                    "en": (
                        "Take back control of one's calendar by devoting at least a third of "
                        "one's time to high-stakes matters"
                    ),
                },
                indicators={
                    "fr": (
                        "D'ici deux mois : l'analyse de quatre semaines d'agenda établit la "
                        "répartition actuelle du temps. D'ici six mois : au moins un tiers du "
                        "temps va aux sujets de moyen terme, et le nombre de réunions suivies "
                        "sans y tenir de rôle a diminué de moitié."
                    ),
                    "en": (
                        "Within two months: an analysis of four weeks of calendar shows how time "
                        "is currently spent. Within six months: at least a third of the time goes "
                        "to medium-term matters, and the number of meetings attended without a "
                        "role to play has halved."
                    ),
                },
            ),
        ),
    ),
    Theme(
        key="trap-assertion",
        kind=TRAP,
        name={
            "fr": "Le manque d'affirmation",
            "en": "Lack of assertion",
        },
        description={
            "fr": (
                "Par retenue ou par crainte du conflit, on tait ses positions, on accepte des "
                "demandes intenables et l'on peine à poser des limites : l'influence et la "
                "crédibilité en pâtissent."
            ),
            "en": (
                "Holding back one's views out of restraint or fear of conflict, accepting "
                "untenable requests and struggling to set limits: influence and credibility "
                "suffer."
            ),
        },
        suggestions=(
            Suggestion(
                key="assertion-take-a-stand",
                title={
                    "fr": (
                        "Prendre position clairement en comité de direction, y compris en cas de "
                        "désaccord, en argumentant à partir des faits"
                    ),
                    "en": (
                        "Take a clear stand in the executive committee, including when "
                        "disagreeing, with fact-based arguments"
                    ),
                },
                indicators={
                    "fr": (
                        "D'ici trois mois : à chaque comité de direction, la personne coachée "
                        "exprime au moins une position argumentée sur un sujet à enjeu. D'ici "
                        "six mois : au moins deux désaccords ont été exprimés et traités de façon "
                        "constructive, et la hiérarchie relève une présence plus affirmée."
                    ),
                    "en": (
                        "Within three months: at every executive committee meeting, the coachee "
                        "voices at least one reasoned position on a high-stakes matter. Within "
                        "six months: at least two disagreements have been voiced and handled "
                        "constructively, and line management notes a more assertive presence."
                    ),
                },
            ),
            Suggestion(
                key="assertion-say-no",
                title={
                    "fr": (
                        "Savoir refuser ou renégocier les demandes qui compromettent les "
                        "priorités de son équipe"
                    ),
                    "en": (
                        "Learn to turn down or renegotiate requests that jeopardise the team's "
                        "priorities"
                    ),
                },
                indicators={
                    "fr": (
                        "D'ici trois mois : toute nouvelle demande significative est examinée au "
                        "regard des priorités avant d'être acceptée. D'ici six mois : au moins "
                        "trois demandes ont été refusées, reportées ou renégociées, motifs à "
                        "l'appui, sans dégradation de la relation."
                    ),
                    "en": (
                        "Within three months: every significant new request is weighed against "
                        "the priorities before being accepted. Within six months: at least three "
                        "requests have been declined, postponed or renegotiated, with reasons "
                        "given, without damaging the relationship."
                    ),
                },
            ),
            Suggestion(
                key="assertion-demanding-feedback",
                title={
                    "fr": (
                        "Formuler des retours exigeants et recadrer lorsque c'est nécessaire, "
                        "sans différer"
                    ),
                    "en": (
                        "Give demanding feedback and set things straight when needed, without "
                        "putting it off"
                    ),
                },
                indicators={
                    "fr": (
                        "D'ici trois mois : les situations à recadrer sont traitées dans la "
                        "semaine, en entretien individuel et à partir de faits. D'ici six mois : "
                        "les entretiens annuels comportent des axes de progrès explicites pour "
                        "chaque personne concernée."
                    ),
                    "en": (
                        "Within three months: situations that need setting straight are handled "
                        "within the week, in a one-to-one and based on facts. Within six months: "
                        "annual reviews include explicit areas for improvement for each person "
                        "concerned."
                    ),
                },
            ),
        ),
    ),
    Theme(
        key="trap-broken-relationships",
        kind=TRAP,
        name={
            "fr": "Les relations dégradées dans le management de managers",
            "en": "Broken relationships when managing managers",
        },
        description={
            "fr": (
                "Court-circuits, rivalités, défiance ou loyautés partagées : quand les relations "
                "se dégradent entre managers, la ligne managériale ne tient plus et les tensions "
                "gagnent les équipes."
            ),
            "en": (
                "Bypassed managers, rivalries, mistrust or divided loyalties: when relationships "
                "between managers break down, the management line no longer holds and tensions "
                "spread to the teams."
            ),
        },
        suggestions=(
            Suggestion(
                key="relationships-restore-trust",
                title={
                    "fr": (
                        "Rétablir une relation de travail fondée sur la confiance avec les "
                        "managers avec qui la relation s'est dégradée"
                    ),
                    "en": (
                        "Restore a working relationship based on trust with the managers with "
                        "whom the relationship has deteriorated"
                    ),
                },
                indicators={
                    "fr": (
                        "D'ici deux mois : un entretien de clarification a eu lieu avec chaque "
                        "manager concerné, et des engagements réciproques sont écrits. D'ici six "
                        "mois : ces engagements sont tenus, les désaccords se traitent en direct "
                        "plutôt que par escalade, et les managers concernés confirment "
                        "l'amélioration."
                    ),
                    "en": (
                        "Within two months: a clarifying conversation has taken place with each "
                        "manager concerned, and mutual commitments are written down. Within six "
                        "months: these commitments are kept, disagreements are dealt with "
                        "directly rather than escalated, and the managers concerned confirm the "
                        "improvement."
                    ),
                },
            ),
            Suggestion(
                key="relationships-team-charter",
                title={
                    "fr": (
                        "Co-construire avec son équipe de managers une charte de fonctionnement : "
                        "rôles, circuits de décision, traitement des désaccords"
                    ),
                    "en": (
                        "Draw up, together with one's managers, a team charter: roles, decision "
                        "paths, how disagreements are handled"
                    ),
                },
                indicators={
                    "fr": (
                        "D'ici trois mois : la charte est rédigée avec les managers et adoptée en "
                        "comité. D'ici neuf mois : elle a été revue une fois en séminaire, et les "
                        "conflits de périmètre sont arbitrés selon les règles convenues en moins "
                        "de deux semaines."
                    ),
                    "en": (
                        "Within three months: the charter is drafted with the managers and "
                        "adopted in committee. Within nine months: it has been reviewed once at "
                        "an away day, and conflicts over scope are settled under the agreed "
                        "rules in less than two weeks."
                    ),
                },
            ),
            Suggestion(
                key="relationships-address-tensions",
                title={
                    "fr": (
                        "Traiter rapidement les tensions entre ses managers au lieu de les "
                        "laisser s'installer"
                    ),
                    "en": (
                        "Address tensions between one's managers promptly instead of letting "
                        "them settle in"
                    ),
                },
                indicators={
                    "fr": (
                        "D'ici trois mois : toute tension signalée entre managers donne lieu, "
                        "sous quinze jours, à un échange réunissant les personnes concernées. "
                        "D'ici six mois : aucun différend n'est en suspens depuis plus d'un mois, "
                        "et les sujets transverses sont traités en comité."
                    ),
                    "en": (
                        "Within three months: any reported tension between managers leads, "
                        "within a fortnight, to a conversation bringing together the people "
                        "concerned. Within six months: no dispute has been left open for more "
                        "than a month, and cross-cutting issues are dealt with in committee."
                    ),
                },
            ),
        ),
    ),
    Theme(
        key="trap-loneliness",
        kind=TRAP,
        name={
            "fr": "La solitude du décideur",
            "en": "The loneliness of the decision-maker",
        },
        description={
            "fr": (
                "À mesure que les responsabilités grandissent, les arbitrages difficiles se "
                "prennent souvent sans personne avec qui réfléchir : le risque est de décider "
                "dans l'isolement, ou de ne plus décider."
            ),
            "en": (
                "As responsibilities grow, difficult trade-offs are often made with no one to "
                "think them through with: the risk is deciding in isolation, or no longer "
                "deciding at all."
            ),
        },
        suggestions=(
            Suggestion(
                key="loneliness-sounding-board",
                title={
                    "fr": (
                        "Se constituer un cercle de pairs et de personnes ressources avec qui "
                        "réfléchir aux décisions difficiles"
                    ),
                    "en": (
                        "Build a circle of peers and trusted advisers with whom to think through "
                        "difficult decisions"
                    ),
                },
                indicators={
                    "fr": (
                        "D'ici trois mois : trois à cinq interlocuteurs de confiance, internes ou "
                        "externes, sont identifiés et sollicités. D'ici six mois : la personne "
                        "coachée participe au moins une fois par trimestre à un groupe de pairs "
                        "ou à un réseau professionnel, et consulte au moins un interlocuteur "
                        "avant chaque décision majeure."
                    ),
                    "en": (
                        "Within three months: three to five trusted counterparts, inside or "
                        "outside the organisation, are identified and consulted. Within six "
                        "months: the coachee takes part in a peer group or professional network "
                        "at least once a quarter, and consults at least one of them before each "
                        "major decision."
                    ),
                },
            ),
            Suggestion(
                key="loneliness-decision-method",
                title={
                    "fr": (
                        "Se doter d'une méthode de décision explicite pour les arbitrages "
                        "difficiles : options, critères, consultation, échéance"
                    ),
                    "en": (
                        "Adopt an explicit decision-making method for difficult trade-offs: "
                        "options, criteria, consultation, deadline"
                    ),
                },
                indicators={
                    "fr": (
                        "D'ici deux mois : la méthode est écrite et appliquée à une première "
                        "décision importante. D'ici six mois : les décisions majeures sont prises "
                        "dans les délais annoncés, leurs motifs sont expliqués aux personnes "
                        "concernées, et aucune ne reste en suspens plus d'un mois faute "
                        "d'arbitrage."
                    ),
                    "en": (
                        "Within two months: the method is written down and applied to a first "
                        "important decision. Within six months: major decisions are made by the "
                        "announced deadlines, their reasons are explained to the people "
                        "concerned, and none is left pending for more than a month for want of "
                        "a ruling."
                    ),
                },
            ),
            Suggestion(
                key="loneliness-shared-preparation",
                title={
                    "fr": (
                        "Associer son équipe de direction à la préparation des décisions, tout en "
                        "assumant personnellement l'arbitrage final"
                    ),
                    "en": (
                        "Involve one's leadership team in preparing decisions, while personally "
                        "owning the final call"
                    ),
                },
                indicators={
                    "fr": (
                        "D'ici trois mois : les décisions importantes sont préparées en comité, "
                        "avec des options instruites par les managers concernés. D'ici six mois : "
                        "trois décisions par mois en moyenne sont préparées collectivement, et "
                        "l'équipe dit comprendre les arbitrages rendus."
                    ),
                    "en": (
                        "Within three months: important decisions are prepared in committee, with "
                        "options worked up by the managers concerned. Within six months: on "
                        "average three decisions a month are prepared collectively, and the team "
                        "says it understands the calls that were made."
                    ),
                },
            ),
        ),
    ),
)

_SUGGESTIONS: dict[str, Suggestion] = {
    item.key: item for theme in THEMES for item in theme.suggestions
}


def _language(language: str | None) -> str:
    """'en', 'en-gb' or 'EN_us' give 'en'; anything not carried here gives French."""
    code = (language or "").strip().lower().replace("_", "-").split("-")[0]
    return code if code in LANGUAGES else DEFAULT_LANGUAGE


def themes(language: str) -> list[dict]:
    """Every theme, with its suggestions, worded in `language` (French if not carried here)."""
    lang = _language(language)
    return [
        {
            "key": theme.key,
            "kind": theme.kind,
            "name": theme.name[lang],
            "description": theme.description[lang],
            "suggestions": [
                {
                    "key": item.key,
                    "title": item.title[lang],
                    "indicators": item.indicators[lang],
                }
                for item in theme.suggestions
            ],
        }
        for theme in THEMES
    ]


def suggestion(key: str, language: str) -> dict | None:
    """
    The suggestion `key` as the initial values of an objective, worded in `language`
    (French if not carried here), or None for an unknown key.
    """
    item = _SUGGESTIONS.get(key)
    if item is None:
        return None
    lang = _language(language)
    return {"title": item.title[lang], "success_indicators": item.indicators[lang]}
