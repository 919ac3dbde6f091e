"""The one high-stakes classifier: which hydrocarbon, reserves, well placement and drilling claims an
interpretation makes. The review gate sends every text with a claim to a human; the audit's
out-of-scope rule grades the same claims. Plain Python; no Django.

The rule: a claim anywhere in the text counts, hedged or negated ("the trap is barren" is a fluid
claim; "no question, this is oil" is a definite one), unless the clause it stands in only says that
it cannot be told ("gas cannot be established without AVO", "whether the sand holds oil cannot be
determined"). The limitation must govern the trigger itself: "an oil column whose thickness is
unknown" is a claim about oil. Words that only look like triggers ("as well as", "the synthetic at
the nearest well", "pay attention", "we reserve the deep window") are dropped by their word sense;
when a sense is not recognised the word counts, because an unneeded review costs less than a
missed one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

HYDROCARBONS, RESERVES, WELL_LOCATION, DRILLING = TOPICS = (
    "hydrocarbon presence", "reserves", "well location", "drilling go/no-go")


def _any(*patterns: str) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE)


# --- Vocabulary ------------------------------------------------------------------------------------

_FLUID = (r"hydrocarbons?|petroleum|oil|gas(?:es|sy)?|condensates?|methane|ethane|propane|butane|bitumens?|tar|"
          r"asphalt(?:enes?)?|(?:gas )?hydrates?|helium|hydrogen(?: sul(?:ph|f)ide)?|nitrogen|brines?|h2s|"
          r"carbon dioxide|co2|co₂|lng|ngl|lpg|fluids?|waters?")
_TRAP = (r"traps?|reservoirs?|sands?|sandstones?|structures?|closures?|prospects?|crest|culmination|zones?|intervals?|"
         r"layers?|units?|beds?|bod(?:y|ies)|anomal(?:y|ies)|horst|blocks?|leads?|fans?|channels?|reefs?|pores?|"
         r"wells?|holes?|pools?|targets?")
_BE = r"(?:is|are|was|were|be|been|looks?|appears?|seems?|proved|proves?|turns? out|turned out|came in|comes in)"
# A well that is or will be drilled, as opposed to a reference to data ("the well tie", "well logs").
_WELL_NOUN = (r"(?:wells?|boreholes?|wellbores?|producers?|injectors?|laterals?|sidetracks?|appraisals?|wildcats?|"
              r"penetrations?|trajector(?:y|ies)|rigs?)"
              r"(?![-\w])(?!\s+(?:ties?|tied|logs?|logging|data|control|tops?|picks?|markers?|synthetics?|calibration|"
              r"velocit\w+|information|database|headers?|names?|reports?|paths? of|known|understood|defined|"
              r"established|documented|constrained|resolved|imaged|developed|suited|behaved|sorted|preserved|"
              r"designed|tested|supported|founded|expressed|above|below|within|beyond|over|enough)\b)")
_NEW = (r"next|new|proposed|planned|future|follow-?up|contingent|pilot|relief|step-?out|delineation|infill|wildcat|"
        r"development|appraisal|exploration|exploratory|injection|production|disposal|replacement|twin|observation|"
        r"monitoring|horizontal|deviated|directional|multilateral|extended[- ]reach|high[- ]angle|vertical|another|"
        r"additional|further|extra|second|third")
_MODAL = r"(?:should|must|would|will|could|can|might|may|ought to|needs? to|has to|is to|are to|is going to)"
_PLACE_VERB = (r"place|placing|placed|site|siting|sited|position|positioning|positioned|locate|locating|put|putting|"
               r"spot|spotting|plan|planning|propose|proposing|recommend(?:ing|s)?|suggest(?:ing|s)?|advise|move|"
               r"moving|relocate|relocating|shift|steer|steering|land|landing|deepen|deepening|sidetrack|test|"
               r"deserves?|warrants?|merits?|justif(?:y|ies)|calls? for")
_STRUCTURE = (r"crest|culmination|apex|top|flank|high|structure|closure|anomaly|bright[- ]spot|flat[- ]spot|prospect|"
              r"sweet[- ]spot|reservoir|sand|trap|updip|downdip|up-?dip|down-?dip|horst|block|lead|fan|channel|reef|"
              r"pinch-?out|amplitudes?")

TRIGGERS: dict[str, re.Pattern[str]] = {
    HYDROCARBONS: _any(
        rf"\b(?:{_FLUID})\b", r"\bdirect hydrocarbon indicators?\b|\bdhis?\b",
        r"\bwater[- ](?:wet|bearing|filled|saturated|legs?|zones?|sands?|contacts?|saturation|cut|drive)\b",
        r"\b(?:formation|pore|connate|free|bound|reservoir|produced|aquifer|interstitial) waters?\b",
        r"\bfree[- ]water levels?\b|\b(?-i:GWC|OWC|GOC|FWL|HWC|ODT|GDT|LKH|LKG|LKO|HKW)s?\b",
        r"\b(?:holds?|holding|contains?|containing|filled with|saturated with|charged with|full of|bearing|"
        r"carr(?:y|ies|ying)) (?:only |mostly |just )?(?:\w+ )?(?:waters?|brines?)\b",
        rf"\b(?:only|just) (?:formation )?water\b|"
        rf"\bwater (?:in|within|fills?|filling) (?:the |this |its )?(?:{_TRAP})\b",
        rf"\bwet (?:{_TRAP})\b|\b{_BE} (?:\w+ )?wet\b",
        rf"\bdry (?:{_TRAP})\b|\b{_BE} (?:\w+ )?dry\b|\bbarren\b",
        rf"\b(?:traps?|reservoirs?|structures?|closures?|prospects?|crest|culmination|pools?) (?:{_BE} |will be |"
        rf"would be |may be |might be |could be |probably |likely )?(?:\w+ )?(?:empty|full(?! of))\b",
        r"\b(?:under|un|partially|fully|half)[- ]?filled\b|\bfilled to spill\b|\b(?:trap|closure|structure) fill\b",
        r"\b(?:net )?pay\b", r"\b(?:un)?charged?\b",
        r"\b(?:water|gas|oil|hydrocarbon|fluid|brine|residual|partial|irreducible|connate)[- ]saturat\w*|"
        r"\bsaturated with\b",
        r"\baccumulations?\b", r"\bcolumn heights?\b", r"\bseeps?\b|\bseepage\b",
        r"\bchances? of (?:geological |commercial )?success\b|\bprobability of (?:geological |commercial )?success\b|"
        r"\b(?-i:G?CoS|G?COS|PoS|POS|Pg)\b|\b(?:un)?risked\b",
        r"\b(?:is|as|be|was|represents?|constitutes?|makes?) (?:an? |the )?(?:\w+ )?discover(?:y|ies)\b|"
        r"\b(?:commercial|significant|major|new|potential|field) discover(?:y|ies)\b",
        r"\b(?:(?:mature|immature|over-?mature|post-?mature|effective|active) source rocks?|source rocks? "
        r"(?:is|are|was|were) (?:\w+ )?(?:mature|immature|active|generating))\b|\b(?:source|generative) kitchens?\b|"
        r"\bkitchen\b",
        r"\b(?:traps?|seals?|closures?|structures?) (?:has |have |had |is |was |were )?(?:leaked|breached|leaking)\b",
        r"\b(?:amplitude|structural) conformance\b|\b(?:amplitudes?|anomal(?:y|ies)|bright(?:ening|[- ]spots?)|"
        r"dim(?:ming|[- ]spots?))\b[^.;]{0,40}?\bconform\w*\s+(?:to|with)\s+(?:the\s+)?(?:structure|structural|depth|"
        r"closure|contours?)",
        r"\bflat[- ]spots?\b[^.;]{0,60}?\bcontacts?\b|\bcontacts?\b[^.;]{0,40}?\bflat[- ]spots?\b",
        r"\b(?:is|as|be|a|an|the|this|strong|good|attractive|viable|drillable|robust|valid|promising) prospect\b|"
        r"\bprospectivity\b|\bprospective\b(?!\s+(?:resources?|volumes?))",
    ),
    RESERVES: _any(
        r"\breserves\b",
        r"\b(?:proved|proven|probable|possible|booked|remaining|recoverable|[123]p|p[123]) reserves?\b",
        r"\breserves? (?:estimates?|base|volumes?|categor(?:y|ies)|bookings?|replacement|reports?|life)\b",
        r"\bresources?\b", r"\b(?:technically|economically|ultimately) recoverable\b|"
        r"\brecoverable (?:oil|gas|hydrocarbons?|volumes?|resources?|reserves?|barrels)\b",
        r"\b(?:originally |initially )?in[- ]place (?:volumes?|oil|gas|hydrocarbons?|resources?)\b|"
        r"\b(?:volumes?|oil|gas|hydrocarbons?|resources?|petroleum)(?: initially| originally)? in[- ]place\b",
        r"\b(?:stoi+p|stooip|ooip|giip|ogip|hciip|hcpv|grv)\b|\bgross rock volumes?\b",
        r"\bvolumetrics\b|\bvolumetric (?:estimates?|calculations?|assessments?)\b",
        r"\b(?:mm|m|k)?bbls?\b|\bmmbo(?:e)?\b|\bboe\b|\b(?:b|t|m|mm)cf(?:d)?\b|\bmmscf(?:d)?\b|\bbopd\b|\bbpd\b|"
        r"\b(?:mm)?stb\b|\bsm3\b|\bbarrels?\b",
        r"\brecovery factors?\b|\bultimate recovery\b",
        r"\b(?:commercial|economic|uneconomic|sub-?commercial|non-?commercial)(?:ly)? (?:viable|discover(?:y|ies)|"
        r"accumulations?|quantit(?:y|ies)|volumes?|fields?|flow|rates?|success)\b",
        r"\b(?:risked|unrisked|mean|p10|p50|p90|prospective|recoverable|hydrocarbon|success-case) volumes?\b",
    ),
    WELL_LOCATION: _any(
        r"\b(?:bottom[- ]?hole|drilling|spud|well ?head) (?:locations?|positions?|sites?|targets?|coordinates)\b|"
        r"\bwell ?(?:locations?|placements?|sites?|targets?|paths?|trajector(?:y|ies)|spots?|slots?|positions?|pads?|"
        r"proposals?|plans?|designs?|course)\b|\btrajectory of the (?:well|sidetrack|lateral)\b",
        rf"\b(?:{_NEW})[- ](?:{_WELL_NOUN}|holes?\b)",
        r"\bappraisals?\b|\bwildcats?\b|\bproducers?\b|\binjectors?\b|\bsidetrack\w*\b|\bgeosteer\w*\b|"
        r"\blanding (?:points?|zones?|depths?)\b|\bkick[- ]?off (?:points?|depths?)\b|\b(?-i:KOP)\b|"
        r"\bfield development\b",
        rf"\b(?:{_PLACE_VERB})\s+(?:a|an|the|our|this|that|one|any|two|three|\d+|more|several)\s+(?:\w+[- ]){{0,2}}?"
        rf"{_WELL_NOUN}",
        rf"\b{_WELL_NOUN}\s+(?:here\s+|there\s+)?{_MODAL}\s+(?:not\s+)?(?!be (?:needed|required|necessary|useful|"
        rf"helpful|used|tied|logged|checked|consulted|available)\b|(?:help|provide|give|have|tie|constrain|"
        rf"calibrate)\b)\w+",
        rf"\b{_WELL_NOUN}\s+(?:\w+\s+)?(?:belongs?|goes|should go|sits? best|fits? best)\b",
        rf"\b(?:a|an|one|another|new|second)\s+(?:\w+[- ])?{_WELL_NOUN}\s+(?:here|there|at|on|into|through|near|"
        rf"in|over|updip|downdip|up-?dip|down-?dip|across|along|between|towards?|to test|to penetrate|to target)\b",
        rf"\b(?:with|by|using|from|for) (?:a|an|another|one|new|the next)\s+(?:\w+[- ])?{_WELL_NOUN}",
        rf"\btarget(?:s|ed|ing)?\s+(?:the\s+|this\s+|that\s+|its\s+|an?\s+)?(?:\w+[- ])?(?:{_STRUCTURE})\b",
        r"\b(?:drilling|well|exploration|appraisal|development|primary|secondary|deeper|shallower|main|best|ideal|"
        r"optimal|obvious|attractive|good|first|next|drillable) targets?\b",
        r"\b(?:is|are|as|be|remains?|makes?|becomes?) (?:the|a|an|our) (?:\w+ )?target\b",
    ),
    DRILLING: _any(
        r"\b(?:re-?|un)?drill(?:s|ed|ing|able|ability|ers?)?\b", r"\bspud(?:s|ded|ding)?\b",
        r"\bgo/no-?go\b|\bgo or no-?go\b|\bno-go\b|\bgo-ahead\b",
        r"\b(?:planned|proposed|target|prognosed|expected|final|projected) (?:(?-i:TD)|total depth)\b|"
        r"\b(?-i:TD) (?:should|will|would|could|must|is planned|at|of the (?:planned|proposed|new|next))\b|"
        r"\b(?:to|reach|reaches|set) (?:(?-i:TD)|total depth)\b|\btotal depth (?:of|for) the (?:well|borehole|hole)\b",
        r"\bover-?pressur\w*|\bpore[- ]pressures?\b|\bgeopressur\w*|\bshallow (?:gas )?hazards?\b",
        r"\bperforat\w+|\bfrack(?:ing|ed)?\b|\bhydraulic(?:ally)? fractur\w+",
    ),
}

# Senses that only look like a trigger: a trigger overlapping one of these is not a claim.
FALSE_SENSES = _any(
    r"\bpay (?:close |careful |particular |special |more |less |little |no |extra |full |due )?(?:attention|heed)\b",
    r"\b(?:to|will|would|must|should|can|could|we|you|they|i|please|not|don't|didn't|worth|who|that) pay\b|"
    r"\bpay (?:off|for|back|out|the price|a visit|tribute|dividends|ourselves|itself)\b",
    r"\b(?:oil|gas|petroleum|oil and gas|energy)(?:[- ]and[- ]gas)? (?:industry|industries|compan(?:y|ies)|prices?|"
    r"majors?|sector|markets?|crisis|embargo|engineers?|engineering|geologists?|geoscientists?|journal|conference|"
    r"association|society|terminal|tankers?|pipelines?|platforms?|rigs?|refiner(?:y|ies)|stations?)\b",
    r"\b(?:oil|water|synthetic)[- ]based (?:mud|drilling fluid)s?\b|\bdrilling (?:fluids?|muds?)\b|"
    r"\b(?:olive|linseed|engine|motor|lubricating|vegetable|midnight|crude palm|immersion) oil\b|"
    r"\boil (?:paint\w*|lamps?|changes?|filters?|immersion|on canvas)\b",
    r"\bgas (?:guns?|exploders?|stations?|giants?|pedals?|masks?|bills?|cylinders?|laws?|constants?|chromatograph\w*|"
    r"lighting|heating|cookers?|stoves?|turbines?)\b|\b(?:greenhouse|tear|ideal|noble|perfect|exhaust|laughing|"
    r"natural gas prices) gas(?:es)?\b|\b(?:step on|out of) (?:the )?gas\b",
    r"\b(?:co2|co₂|carbon dioxide|carbon|methane) (?:emissions?|footprint|budget|prices?|tax|equivalents?|e)\b|"
    r"\b(?:emissions?|emitted) of (?:co2|co₂|carbon dioxide|methane)\b",
    r"\bhydrogen (?:index|bonds?|atoms?|nuclei)\b|\bliquid (?:nitrogen|helium|hydrogen)\b|\bhelium balloons?\b",
    r"\btar(?:\.gz|\.bz2)?\b\s*(?:archives?|files?|balls?|command)|\.tar\b|\btarballs?\b",
    r"\bfluid (?:dynamics|mechanics|substitution|workflows?|process(?:es)?|situations?|interfaces?|users?|layouts?|"
    r"transitions?|motion|movements?|ways?|manner|style|design|ui|animation|scrolling|grid|typography|schedules?|"
    r"plans?)\b|\b(?:in a |remains? |is |stays? )fluid (?:manner|way)\b|\b(?:situation|schedule|plan|timeline) "
    r"(?:is|remains) (?:still )?fluid\b|\bfluidly\b",
    r"\bcharged? (?:particles?|ions?|debate|atmosphere|density|carriers?|cards?|codes?|account)\b|"
    r"\b(?:electric(?:al)?(?:ly)?|positively|negatively|highly|emotionally|politically|fully|battery|surcharged?) "
    r"charged?\b|\bcharged? (?:for|to) (?:the |our |your |a )?(?:project|account|budget|client|customer|work|time|"
    r"hours?|services?|review|(?:re)?processing|acquisition|licen[cs]es?|data|software|access|storage|compute|"
    r"shipping|delivery|it|this|that|each|every)\b|\bcharged? with (?:the |a )?(?:tasks?|crimes?|"
    r"offen[cs]es?|responsibilit(?:y|ies)|murder|fraud|duty|duties|keeping|reviewing|checking|overseeing)\b|"
    r"\b(?:in|take|took|taking|takes) charge\b|\b(?:free of|no|at no|small|extra|service|flat) charge\b|"
    r"\bcharge (?:the|our|a) (?:client|customer|account|project|battery|batteries|laptop|phone)\b|"
    r"\b(?:person|engineer|geologist|manager|team|reviewer) in charge\b",
    r"\b(?:sediment\w*|sand|mud|clay|salt|carbonate|shell|organic matter|peat|ice|snow|debris|error|data|noise|"
    r"energy|amplitude|strain|stress|displacement|slip|heat|moisture|dust|ash|volcanic|talus|loess|turbidite) "
    r"accumulations?\b|\baccumulations? of (?:sediments?|sands?|muds?|debris|errors?|noise|data|evidence|"
    r"strain|slip|carbonates?|turbidites?|volcanics?|ash)\b",
    r"\bwater[- ](?:depths?|bottoms?|columns?|layers?|velocit(?:y|ies)|guns?|table|tables|loaded)\b|"
    r"\b(?:sea|deep|shallow|open|ocean|surface|drinking|tap|cooling|rain|melt|ballast)[- ]?water\b|\bfresh water "
    r"(?:for|on board|supply|tanks?)\b|\bwater[- ](?:based|tanks?|supply|ingress|damage|proof|resistant|tight|"
    r"soluble|cooled|jet|pumps?|sampl\w+ of the sea)\b|\bcolumn heights? of the water\b|"
    r"\bwater column heights?\b|\b(?:argument|hypothesis|theory|idea|explanation|reasoning|logic|claim|"
    r"interpretation|model) (?:does not |doesn't |would not )?holds? (?:up )?water\b",
    rf"\b(?:weather|seasons?|climate|summer|winter|spring|autumn|conditions|deck|ground|crew|roads?|tracks?|"
    rf"equipment|cables?|geophones?|streamers?) {_BE} (?:\w+ )?(?:wet|dry)\b|\bonly (?:a|an|one) (?:\w+ )?well "
    r"(?:could|can|would|will)\b",
    r"\bdry[- ](?:runs?|seasons?|climates?|weather|ice|lab|conditions)\b|\b(?:arid|dry) (?:and|or) (?:hot|cold)\b",
    r"\bbarren (?:of (?:\w+ )?(?:fossils|microfossils|palynomorphs|foraminifera|forams|nannofossils|biota|fauna|"
    r"flora|life|vegetation|spores|pollen|reflections?|reflectors?|events?|signal|coherent energy|data|amplitudes?|"
    r"features?)|land|landscape|desert|ground|plains?|hills?)\b",
    r"\b(?:computing|computer|compute|computational|human|staff|staffing|team|time|online|educational|learning|"
    r"training|web|cloud|server|gpu|cpu|hardware|memory|processing|it|reviewer|review|engineering|financial|"
    r"limited|scarce|sufficient|enough|free|extra|project|budget|external|internal|shared|system|network|storage|"
    r"library|teaching|useful|helpful|open|natural|water|mineral|reference|documentation|the team's|our team's) "
    r"resources?\b|\bresources? (?:page|tab|section|folder|links?|lists?|allocation|usage|use|limits?|budget|"
    r"constraints?|to (?:do|run|process|review|finish|complete|handle|check|reprocess))\b|"
    r"\b(?:allocate|allocating|free up|freeing up|spend|spending|save|saving|waste|wasting|lack|lacking|use|"
    r"using|devote|devoting|have the) (?:\w+ )?resources?\b",
    r"\breserves? (?:the|a|an|judge?ment|time|some|this|that|its|their|our|his|her|space|capacity|room|slots?|"
    r"the right|bandwidth|disk)\b|\b(?:we|i|they|you|team|reviewer|group|operator|user|owner|company|client) "
    r"(?:also |always |usually )?reserves?\b|\breserved?\b(?= (?:for|the|a|to)\b)|\bin reserve\b|\breserve "
    r"(?:judge?ment|the right|time|a slot|capacity|bandwidth)\b|\bwithout reserve\b",
    r"\brecoverable (?:errors?|files?|from (?:the )?backups?|data|state|failures?)\b|\b(?:amplitude|true amplitude|"
    r"gain|signal|divergence) recovery\b",
    r"\bbarrel (?:distortion|shaped|vault)\b|\bbarrel-shaped\b|\bbarrel of (?:a|the) (?:gun|pen|lens)\b",
    r"\b(?:critical|performance|quick|honest|fair|careful|rough|peer) appraisals?\b|\bappraisals? of (?:the |this |"
    r"our |that |their )?(?:method|approach|data|workflow|results?|work|paper|study|interpretation|quality|"
    r"processing|performance|evidence|options?|risks?|literature|tools?|code|model)s?\b",
    r"\b(?:data|content|music|film|tv|record|software|event|message|video) producers?\b|\bproducers? of "
    r"(?:the |this )?(?:data|content|software|report|volume|survey|dataset)\b|\b(?:fuel|code|dependency|noise|fault|"
    r"signal|sql) injectors?\b",
    r"\b(?:got|get|gets|getting|be|been|was|were) sidetracked\b|\bsidetrack(?:ed|ing|s)? (?:by|the|our|this) "
    r"(?:discussion|conversation|review|meeting|reviewers?|team|question)\b",
    r"\bdrill(?:s|ed|ing)?[- ]?(?:down|through the (?:menu|data|layers|list))\b|\bdrill(?:s|ed|ing)? into (?:the |"
    r"our |this )?(?:data|details?|tables?|results|numbers|statistics|reports?|dashboards?|spreadsheets?|attributes|"
    r"menus?|logs?|metrics|breakdowns?|code|findings|categories|audit)\b|\b(?:fire|safety|emergency|evacuation|"
    r"muster|boat|lifeboat|abandon[- ]ship|practice|training) drills?\b|\bdrill sergeants?\b",
    r"\b(?:was|were|had been|has been|have been|is already|are already) (?:\w+ )?(?:drilled|spudded)\b(?! to test)|"
    r"\b(?:drilled|spudded) (?:in|during|back in) (?:\d{4}|the (?:19|20)\d0s|the (?:last|previous|early|late)\b|an "
    r"earlier)|\b(?:previously|already|recently|historically) (?:drilled|spudded)\b|\bundrilled\b",
    r"\bdrilling (?:data|reports?|records?|histor(?:y|ies)|results|logs?|parameters|engineers?|team|department|"
    r"contractors?|company|reports)\b",
    r"\b(?:existing|offset|nearby|neighbou?ring|previous|legacy|historic(?:al)?|old|known|released|public|nearest|"
    r"closest|reference|key|calibration|control|abandoned|plugged|tied|only) "
    r"(?:\w+ )?wells?(?: locations?| paths?| trajector(?:y|ies)| sites?)?\b|\bwell locations? maps?\b",
    r"\b(?:from|to|with|at|in|of|between|across) (?:the |all )?(?:more|additional|other|nearby|further|several|"
    r"many|two|three|\d+) wells?\b",
    r"\btarget (?:horizons?|reflectors?|events?|audience|resolution|frequenc(?:y|ies)|dates?|accuracy|snr|values?|"
    r"functions?|variables?|domain|wavelets?|spectr(?:um|a)|picks?|for (?:picking|mapping|the picker|the tracker|"
    r"qc|interpretation|the autotracker))\b|\btarget of (?:this|the|our) (?:study|analysis|report|review|work|"
    r"exercise|paper|test|section)\b|\b(?:picker|tracker|autotracker)'?s? target\b",
    r"\b(?:the|a|this) prospect of (?!(?:gas|oil|hydrocarbons?)\b)|\bprospects? for (?:the|this|our) (?:project|"
    r"team|review|schedule|method)\b",
    r"\b(?:the|a|an|that|this) (?:\w+ )?discovery of (?:the|a|an) (?!(?:gas|oil|hydrocarbons?|field|reservoir|"
    r"accumulation))\w+|\bdata discovery\b",
    r"\b(?:lithologic(?:al)?|stratigraphic|erosional|unconformable|sharp|conformable|depositional|structural|fault|"
    r"intrusive|basal|gradational) contacts?\b",
    r"\bseep(?:s|age)? (?:of|through) (?:the )?(?:roof|office|window)\b",
    r"\b(?:office|staff|team) kitchen\b|\bkitchen sink\b",
    r"\bno-go (?:zones?|areas?) (?:for|in) (?:the )?(?:vessel|boat|ship|survey|streamers?|acquisition)\b",
)

# --- Clauses, hedges and limitations -----------------------------------------------------------------

HEDGE = re.compile(
    r"\b(?:may|might|could|possibl[ey]|potential(?:ly)?|perhaps|suggests?|suggestive|consistent with|"
    r"compatible with|likely|unlikely|probabl[ey]|speculative|tentative(?:ly)?|appears?|seems?|uncertain|"
    r"cannot be (?:confirmed|determined|established)|can ?not (?:confirm|determine|establish)|would need|"
    r"would require|requires?|needs? (?:to be )?(?:confirmed|validation|checked)|hypothes[ie]s|interpreted as|"
    r"one interpretation|if confirmed|to be confirmed|not confirmed|unconfirmed)\b",
    re.IGNORECASE,
)
# "No evidence of gas" is weaker than "no gas": a claim about the evidence, graded like a hedged one.
_EVIDENCE_ONLY = re.compile(r"\bno (?:clear |direct |obvious |conclusive |seismic |convincing )?(?:evidence|signs?|"
                            r"indications?|hints?)\b", re.IGNORECASE)
_BREAK = re.compile(
    r"\s*[;:]\s*|\s+[–—-]\s+|,\s*(?=(?:but|whereas|although|though|while|whilst|yet|so|which|whose|hence|thus|"
    r"therefore|because|since|as|and|however|unless|except|otherwise)\b)|\s+(?=(?:but|whereas|although|though|yet|"
    r"whilst|hence|therefore|however|because)\b)|\s+and\s+(?=(?:the|this|that|it|we|there|its|our|they|these|those|"
    r"i|you)\s)", re.IGNORECASE)
_BACKREF = re.compile(r"^(?:(?:which|although|though|but|and|yet|so|as)\s+)?(?:this|that|it|these|they|such)\b|"
                      r"^which\b|^(?:although |though )?(?:pending|subject to|if confirmed|to be confirmed|"
                      r"unconfirmed)\b", re.IGNORECASE)
_KNOW = (r"(?:determin|establish|confirm|tell|told|say|said|know|known|assess|infer|identif|distinguish|predict|"
         r"prov|verif|ascertain|judg|decid|conclud|estimat|quantif|evaluat|discriminat|differentiat|constrain|"
         r"resolv|test|check|address|consider|discuss|examin|analy[sz])\w*")
_LIMIT_BEFORE = re.compile(
    rf"(?:\b(?:cannot|can ?not|can't|could not|couldn't|unable to|impossible to|not possible to|no way to|"
    rf"not able to|no basis (?:to|for)|insufficient to|not sufficient to|(?:do|does|did) not (?:allow (?:us )?to |"
    rf"let us )?)\s+(?:(?:yet|reliably|confidently|really|be|be used to|by itself|alone|on its own|from this|"
    rf"here)\s+){{0,3}}{_KNOW}(?:\s+(?:to|from|about|on|apart|between))?"
    rf"|\b(?:needed|required|necessary|needs?|requires?|would need|would require) to {_KNOW}"
    rf"|\b(?:says?|tells?(?: us)?|reveals?|shows?) nothing (?:about|on|regarding)|\bsilent (?:on|about)"
    rf"|\b(?:neither|nor) (?:can|could|is|are|do|does)(?: the)?|\bonly\b.{{0,40}}\b(?:can|could|would|will) {_KNOW}"
    rf"|\bnothing can be said (?:about|on|regarding)|\bno (?:information|inference|conclusions?|statements?|claims?|"
    rf"comment) (?:can be made )?(?:about|on|regarding|as to))\s*$", re.IGNORECASE)
_NEED = re.compile(r"\b(?:would|will|could)?\s*(?:need|needs|needed|require|requires|required|calls? for|"
                   r"depends? on)\b|\b(?:is|are|remains?) (?:not possible|impossible|beyond)|\bcannot\b", re.IGNORECASE)
_LIMIT_AFTER = re.compile(
    rf"\b(?:(?:cannot|can ?not|can't|could not|couldn't) (?:yet |reliably |confidently |really )?(?:be )?"
    rf"(?:(?:yet |reliably |confidently )?{_KNOW}|made|drawn|given|reached|tied to|linked to|attributed to|"
    rf"told apart)"
    rf"|(?:is|are|was|were|remains?|stays?) (?:still |currently |as yet |entirely |completely |therefore |thus |"
    rf"simply |so far )?(?:unknown|unclear|uncertain|undetermined|unresolved|unconfirmed|unproven|untested|"
    rf"unconstrained|indeterminate|an open question|open|not (?:yet )?(?:known|clear|{_KNOW})|beyond (?:the scope|"
    rf"what)|outside (?:the scope|what))"
    rf"|(?:has|have) not (?:yet )?been {_KNOW}"
    rf"|(?:lies?|is|are) (?:beyond|outside) (?:the )?(?:scope|reach|resolution))", re.IGNORECASE)
_EXISTENCE = (r"presence|existence|nature|type|types|kind|identity|content|contents|occurrence|fill|phase|effect|"
              r"potential|signature|indication|indications|evidence|charge|likelihood|possibility|chance|risk")
# Nouns naming a property of a fluid body: a limitation on them presupposes the fluid ("the gas column height").
_PROPERTY = (r"columns?|thickness|thick|heights?|extent|size|volumes?|amount|quantit(?:y|ies)|areas?|geometry|"
             r"distribution|depths?|top|base|limits?|boundar(?:y|ies)|continuity|quality|rates?|pressures?|levels?|"
             r"legs?|caps?|properties|composition|density|viscosity|gravity|api|contacts?|accumulations?|pools?|"
             r"fields?|zones?|cut|flow|reserves|in place")
_LIST_WORD = rf"(?:{_FLUID}|and|or|nor|from|between|only|just|even|either|the|some|any|possibly|perhaps)"
_LIST = re.compile(rf"\s*(?:{_LIST_WORD}\s*)*", re.IGNORECASE)
_GAP_BEFORE = re.compile(rf"^(?:\s*(?:the|a|an|any|some|its|their|possible|potential|likely|free|of|for|about|"
                         rf"regarding|on|as to|{_EXISTENCE}|{_LIST_WORD}),?)*\s*$", re.IGNORECASE)
_GAP_AFTER_BLOCK = re.compile(rf"\d|,|\b(?:whose|which|that|who|where|when|is|are|was|were|be|been|has|have|had|"
                              rf"holds?|contains?|shows?|its|their|but|so|{_PROPERTY})\b", re.IGNORECASE)
_CLAUSE_IN_GAP = re.compile(r"\d|,|\b(?:whose|which|that|who|where|when|is|are|was|were|be|been|has|have|had|"
                            r"holds?|contains?|shows?|but|so)\b", re.IGNORECASE)
_FOLLOWED_BY_PROPERTY = re.compile(rf"^[-\s]\s*(?:{_PROPERTY})\b", re.IGNORECASE)
_GERUND = re.compile(rf"\b(?:to |in order to )?(?:confirm|establish|determin|prov|test|assess|verif)\w*\s+(?:for\s+)?"
                     rf"(?:(?:the|any|a|an|{_EXISTENCE}|of|whether)\s+)*$", re.IGNORECASE)
_PREFIX_BLOCK = re.compile(r"\b(?:is|are|was|were|holds?|contains?|shows?|indicates?|marks?|has|have|hosts?|"
                           r"carr(?:y|ies)|proves?|confirms?|means|reveals?)\b", re.IGNORECASE)
_PROPERTY_OF = re.compile(rf"\b(?!(?:{_EXISTENCE})\b)(\w+)\s+of\s+(?:the\s+|any\s+|an?\s+|possible\s+|potential\s+)?$",
                          re.IGNORECASE)
_OPEN_QUESTION = re.compile(
    r"\bwhether\b|\b(?:tell|say|know|determine|establish|confirm|test|check|verify|see|show|assess|judge|decide|ask|"
    r"wonder|sure|certain|clear|unclear|unknown|predict|identify|infer|reveal|indicate|specify)\s+(?:if|what|which)\b"
    r"|^\s*what\b", re.IGNORECASE)


def sentences(text: str) -> list[str]:
    """Sentences, keeping decimals, abbreviations like 'approx.' and list items apart."""
    pieces = re.split(r"(?<=[.!?])\s+(?=[A-Z(\"'])|\n+|;\s+|•", text)
    return [p.strip(" -*\t") for p in pieces if p and p.strip(" -*\t")]


def clauses(text: str) -> list[tuple[int, str, bool]]:
    """(offset in ``text``, clause, hedged) for every clause. A clause is hedged by its own words or by a
    later clause of its sentence that refers back to it ("..., although this cannot be confirmed")."""
    out: list[tuple[int, str, bool]] = []
    for sentence_start, sentence in _sentences_with_offsets(text):
        parts = _split_clauses(sentence)
        for index, (start, clause) in enumerate(parts):
            hedged = bool(HEDGE.search(clause) or _EVIDENCE_ONLY.search(clause)) or any(
                _BACKREF.search(later.lstrip(" ,")) and HEDGE.search(later) for _, later in parts[index + 1:])
            out.append((sentence_start + start, clause, hedged))
    return out


def _sentences_with_offsets(text: str) -> list[tuple[int, str]]:
    out, position = [], 0
    for sentence in sentences(text):
        start = text.find(sentence, position)
        out.append((start, sentence))
        position = start + len(sentence)
    return out


_OPEN_UNTIL_AND = re.compile(r"\b(?:whether|if)\b(?!.*\b(?:cannot|unknown|unclear|uncertain|undetermined|"
                             r"open question|impossible)\b)", re.IGNORECASE)


def _split_clauses(sentence: str) -> list[tuple[int, str]]:
    out, start = [], 0
    for match in _BREAK.finditer(sentence):
        left = sentence[start:match.start()]
        if match.group(0).strip().lower() == "and" and _OPEN_UNTIL_AND.search(left):
            continue  # "whether the sand holds oil and the crest holds gas ..." is one open question
        out.append((start, left))
        start = match.end()
    out.append((start, sentence[start:]))
    return [(s, c) for s, c in out if c.strip(" ,.")]


def exempt(clause: str, start: int, end: int) -> bool:
    """Whether the words at clause[start:end] only appear in saying that they cannot be told:
    "gas cannot be established without AVO", "we cannot determine whether the sand holds oil",
    "confirming hydrocarbons would need AVO". A limitation about something else in the clause
    ("an oil column whose thickness is unknown") does not exempt the word."""
    before, after = clause[:start], clause[end:]
    if _FOLLOWED_BY_PROPERTY.match(after):
        return False  # "the gas column cannot be mapped": the column is taken for granted
    questions = list(_OPEN_QUESTION.finditer(before))
    if questions and all(_LIST.fullmatch(part) for part in before[questions[-1].end():].split(",")[1:]):
        return True  # inside an open question: "whether the crest holds gas, oil or brine", "cannot tell if it is oil"
    if re.search(r"\bneither\b", before, re.IGNORECASE) and re.search(rf"\b(?:can|could|is|are)\s+(?:be\s+)?{_KNOW}",
                                                                      after, re.IGNORECASE):
        return True  # "neither gas nor oil can be identified"
    if _gap_before_ok(before):
        return True  # "cannot establish the presence of gas", "seismic says nothing about fluids"
    if _GERUND.search(before) and _NEED.search(after):
        return True  # "confirming hydrocarbons would need AVO", "to confirm gas, pre-stack data are needed"
    if _PREFIX_BLOCK.search(before) or _PROPERTY_OF.search(before):
        return False  # not the subject ("the trap holds gas ..."), or a property of it ("the thickness of the oil")
    limit = _LIMIT_AFTER.search(after)  # "gas cannot be established", "fluid content is unknown"
    gap = after[:limit.start()] if limit else ""
    head = re.split(r"\b(?:of|in|at|on|within|across|along|near|from|below|above|beneath|under)\b", gap, maxsplit=1)
    return bool(limit) and len(gap.split()) <= 6 and not _GAP_AFTER_BLOCK.search(head[0]) and \
        not (len(head) > 1 and _CLAUSE_IN_GAP.search(head[1]))


def _gap_before_ok(before: str) -> bool:
    """Whether ``before`` ends with a limitation phrase followed only by words that keep the trigger
    its object ("cannot establish the presence of")."""
    words = before.split(" ")
    for cut in range(len(words), max(-1, len(words) - 8), -1):
        head, gap = " ".join(words[:cut]), " ".join(words[cut:])
        if _GAP_BEFORE.match(gap) and _LIMIT_BEFORE.search(head):
            return True
    return False


# --- The classifier ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Hit:
    topic: str
    span: str
    clause: str
    start: int  # in the classified text
    end: int
    hedged: bool

    @property
    def definite(self) -> bool:
        return not self.hedged


_COMPOUND = re.compile(r"(?:[- ](?:charged|filled|bearing|saturated|rich|prone|wet|sands?|reservoirs?|accumulations?|"
                       r"columns?|legs?|caps?|zones?|pockets?|fields?|discover(?:y|ies)|chimneys?|clouds?|"
                       r"contacts?))+\b", re.IGNORECASE)


def classify(text: str) -> list[Hit]:
    """Every high-stakes claim of ``text``, in order; exempt words (a clause that only says the thing
    cannot be told) and words in another sense are left out."""
    hits = []
    for offset, clause, hedged in clauses(text):
        false_spans = [m.span() for m in FALSE_SENSES.finditer(clause)]
        for topic, pattern in TRIGGERS.items():
            for match in pattern.finditer(clause):
                s, e = match.span()
                if any(s < fe and fs < e for fs, fe in false_spans) or exempt(clause, s, e):
                    continue
                if compound := _COMPOUND.match(clause, e):  # report "gas-charged", not "gas"
                    e = compound.end()
                hits.append(Hit(topic, clause[s:e], clause.strip(), offset + s, offset + e, hedged))
    hits = [h for i, h in enumerate(hits) if not any(  # "gas-charged" once, not also "charged"
        o.topic == h.topic and o.start <= h.start and h.end <= o.end and (o.end - o.start > h.end - h.start or j < i)
        for j, o in enumerate(hits))]
    return sorted(hits, key=lambda h: (h.start, TOPICS.index(h.topic)))


def topics(text: str) -> list[str]:
    """The high-stakes topics ``text`` raises, in the order of TOPICS (what the review gate stores)."""
    found = {hit.topic for hit in classify(text)}
    return [topic for topic in TOPICS if topic in found]
