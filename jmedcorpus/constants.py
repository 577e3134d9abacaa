"""Drop reasons, quarantine errors and metadata keys: one place, snake_case, prefixed by family.

Reasons end up in `OUT/removed/<step>/*.parquet`, in `manifest.json` and in reports, so renaming
one is a breaking change for anyone who filters on it.
"""

# --- language -------------------------------------------------------------------------------
LANG_NOT_ALLOWED = "lang_not_ja"
LANG_LOW_SCORE = "lang_low_score"
LANG_TOO_LITTLE_JAPANESE = "lang_too_little_japanese"  # paragraph mode

# --- quality ---------------------------------------------------------------------------------
QUALITY_TOO_SHORT = "quality_too_short"
QUALITY_TOO_LONG = "quality_too_long"
QUALITY_HIRAGANA_RATIO_LOW = "quality_hiragana_ratio_low"
QUALITY_JAPANESE_RATIO_LOW = "quality_japanese_ratio_low"
QUALITY_KATAKANA_RATIO_HIGH = "quality_katakana_ratio_high"
QUALITY_SYMBOL_RATIO_HIGH = "quality_symbol_ratio_high"
QUALITY_DIGIT_RATIO_HIGH = "quality_digit_ratio_high"
QUALITY_CHAR_NGRAM_REPETITION = "quality_char_ngram_repetition"
QUALITY_SENTENCE_TOO_LONG = "quality_sentence_too_long"
QUALITY_MEAN_SENTENCE_LENGTH = "quality_mean_sentence_length_out_of_range"
QUALITY_MARKUP_DEBRIS = "quality_markup_debris"
QUALITY_MOJIBAKE = "quality_mojibake"
QUALITY_MEDICAL_DENSITY_LOW = "quality_medical_density_low"
QUALITY_MEDICAL_SCORE_LOW = "quality_medical_score_low"  # medical_domain below min_score
LICENSE_NOT_ALLOWED = "license_not_allowed"
DECONTAM_BENCHMARK = "decontam_benchmark"  # the document contains a benchmark item (decontaminate)
# datatrove's GopherRepetitionFilter reasons are prefixed with this
QUALITY_REPETITION_PREFIX = "quality_repetition_"

# --- dedup -------------------------------------------------------------------------------------
DEDUP_EXACT_DUPLICATE = "dedup_exact_duplicate"
DUPLICATE_ID = "duplicate_id"  # a later document reusing an id already taken (first in input order keeps it)
DEDUP_NEAR_DUPLICATE = "dedup_near_duplicate"
BOILERPLATE_ONLY = "boilerplate_only"  # nothing but boilerplate lines left

# --- quarantine (unreadable input records) ---------------------------------------------------
QUARANTINE_INVALID_JSON = "invalid_json"
QUARANTINE_NOT_AN_OBJECT = "record_not_an_object"
QUARANTINE_INVALID_UTF8 = "invalid_utf8"
QUARANTINE_MISSING_TEXT = "missing_text"
QUARANTINE_TEXT_NOT_STRING = "text_not_string"
QUARANTINE_EMPTY_FILE = "empty_file"
QUARANTINE_UNREADABLE_FILE = "unreadable_file"
QUARANTINE_INVALID_ID = "invalid_id"
QUARANTINE_STEP_ERROR = "step_error"
QUARANTINE_INVALID_XML = "invalid_xml"  # a JATS file that is not well-formed XML or not an article
QUARANTINE_UNDECODABLE = "undecodable_text"  # a file no input.encoding rule decodes (or not the one set)

# --- metadata keys (signal columns of the output) --------------------------------------------
META_CHARS = "chars"
META_MECAB_TOKENS = "mecab_tokens"
META_LANGUAGE = "language"
META_LANGUAGE_SCORE = "language_score"
META_SOURCE = "source"

# --- synth (rejections of generated QA items; jmedcorpus.synth.parsing / .validation) -----------
# parsing: the model output could not be turned into an item
SYNTH_UNPARSEABLE = "synth_unparseable"  # no JSON object and no recognizable exam/QA structure
SYNTH_TRUNCATED = "synth_truncated"  # cut off (unclosed JSON object, [ans] without [/ans])
SYNTH_MISSING_FIELD = "synth_missing_field"  # a field absent, empty or of the wrong type
SYNTH_WRONG_OPTION_COUNT = "synth_wrong_option_count"  # not exactly 5 options
SYNTH_DUPLICATE_OPTIONS = "synth_duplicate_options"
SYNTH_ANSWER_NOT_IN_OPTIONS = "synth_answer_not_in_options"  # letter outside a-e, unknown text
SYNTH_MULTIPLE_ANSWERS = "synth_multiple_answers"  # "b, d": not a single-answer question
# validation: a parsed item that is not good enough
SYNTH_QUESTION_TOO_SHORT = "synth_question_too_short"
SYNTH_QUESTION_TOO_LONG = "synth_question_too_long"
SYNTH_OPTION_TOO_LONG = "synth_option_too_long"
SYNTH_ANSWER_TOO_SHORT = "synth_answer_too_short"
SYNTH_ANSWER_TOO_LONG = "synth_answer_too_long"
SYNTH_EXPLANATION_TOO_SHORT = "synth_explanation_too_short"
SYNTH_EXPLANATION_TOO_LONG = "synth_explanation_too_long"
SYNTH_QUESTION_NOT_JAPANESE = "synth_question_not_japanese"
SYNTH_OPTIONS_NOT_JAPANESE = "synth_options_not_japanese"
SYNTH_ANSWER_NOT_JAPANESE = "synth_answer_not_japanese"
SYNTH_EXPLANATION_NOT_JAPANESE = "synth_explanation_not_japanese"
SYNTH_NOT_GROUNDED = "synth_not_grounded"  # the answer's content words are not in the passage
SYNTH_CONTAMINATED = "synth_contaminated"  # overlaps a benchmark question (IgakuQA)
SYNTH_DUPLICATE = "synth_duplicate"  # near-duplicate of an item already accepted
# engines: the request was not served, or the output was cut
SYNTH_PROMPT_TOO_LONG = "synth_prompt_too_long"  # prompt + max_tokens exceed the model's context
SYNTH_ENGINE_ERROR = "synth_engine_error"  # failed after retries (HTTP error, timeout, engine raise)
SYNTH_MAX_TOKENS = "synth_max_tokens"  # finish_reason == "length": cut at max_tokens
# model checks (jmedcorpus.synth.answer_check / .rubric_judge): a model read the accepted item
SYNTH_ANSWER_MISMATCH = "synth_answer_mismatch"  # most of the k answers without the key disagree with it
SYNTH_JUDGE_UNPARSEABLE = "synth_judge_unparseable"  # the judge's output holds no 1-5 score
SYNTH_JUDGE_BELOW_FLOOR = "synth_judge_below_floor"  # the judge's score is under judge.min_score
# EHR name normalization (jmedcorpus.synth.ehr_master): the answer against the standard-name master
SYNTH_NOT_IN_MASTER = "synth_not_in_master"  # code or standard name absent from the master, or none given
SYNTH_MASTER_MISMATCH = "synth_master_mismatch"  # code and name both in the master, of different entries
