"""Predictions: each customer's expected orders, predicted value and churn risk, and how well
the model did on a holdout."""

import streamlit as st

from dashboard import ui
from dashboard.predict import overview
from dashboard.ui import predictions as ui_predictions

ui.require_entry_point("pages/predictions.py")
st.title("Predictions")
st.caption(
    "Who is likely to buy again, what each customer is worth over the next months and who is "
    "quietly gone: BG/NBD or Pareto/NBD for purchases and Gamma-Gamma for spend, fitted on the "
    "valid orders up to the analysis date, and checked against a holdout."
)

selection = ui.require_selection()

with ui.friendly_errors():
    ui_predictions.choose_prediction_settings()
    fit = ui_predictions.get_prediction_fit(selection)
    scores = ui_predictions.get_customer_predictions(selection)
    currency = selection.currency
    ui_predictions.show_headline(fit, overview.summarise_headline(scores), currency)
    ui_predictions.show_prediction_charts(fit, scores, currency)

    st.subheader("Top 20 customers by predicted CLV")
    ui_predictions.show_top_customers(scores, currency)
    ui_predictions.offer_predictions_download(selection, scores)

    st.subheader("Model")
    ui_predictions.show_model(fit, currency)

    st.subheader("Validation on a holdout")
    ui_predictions.show_validation(selection, fit)
