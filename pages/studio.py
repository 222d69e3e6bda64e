"""RFM studio: explain a customer, migration, backtest, clusters and the scheme's segment map."""

import datetime as dt

import streamlit as st

from dashboard import export, ui
from dashboard.charts import rfm_charts
from dashboard.rfm import backtest, migration, scheme_io
from dashboard.ui import studio as ui_studio

ui.require_entry_point("pages/studio.py")
st.title("RFM studio")
st.caption(
    "Look inside the scoring: why a customer is in a segment, how customers move between "
    "segments, whether segments predict what customers do next, and the scheme itself."
)

selection = st.session_state.get("selection")
if selection is None:
    st.info("Choose a dataset in the sidebar, or load your store's exports on the Data page.")
    st.stop()

with ui.friendly_errors():
    base = ui.get_customer_base(selection)
    scheme, currency = selection.scheme, selection.currency
    first, last = selection.overview.first_order_on, selection.overview.last_order_on
    scoring, cuts = ui_studio.studio_scoring(selection, base)
    st.caption(f"Scheme: {scheme.name}; {scoring.mode} cut points, as on the Segments page.")
    explain_tab, migration_tab, backtest_tab, clusters_tab, schemes_tab = st.tabs(
        ["Explain a customer", "Migration", "Backtest", "Clusters", "Schemes"],
        key="studio_tab",
        on_change="rerun",
    )

    with explain_tab:
        if explain_tab.open:
            key = st.text_input("Customer id or email", help="Exact match; case does not matter.")
            found = ui_studio.explain_customer(base, cuts, scheme, key) if key.strip() else None
            if key.strip() and found is None:
                st.warning(f"No customer has the id or email '{key}' on {selection.as_of}.")
            if found:
                ui_studio.show_explanation(found, cuts, currency)

    with migration_tab:
        if migration_tab.open:
            left, right = st.columns(2)
            date_to = right.date_input("Second date", selection.as_of, first, last, key="move_to")
            default_from = max(first, date_to - dt.timedelta(days=migration.DEFAULT_GAP_DAYS))
            date_from = left.date_input("First date", default_from, first, last, key="move_from")
            moved = ui_studio.get_migration(selection, scoring, date_from, date_to)
            transitions = migration.summarise_transitions(moved)
            ui_studio.show_move_counts(migration.count_moves(transitions), currency)
            measure = st.radio(
                "Show",
                ["customers", "revenue_to"],
                horizontal=True,
                format_func={"customers": "Customers", "revenue_to": "Revenue"}.get,
            )
            matrix = migration.pivot_transitions(transitions, scheme, measure)
            st.plotly_chart(rfm_charts.plot_transition_heatmap(matrix), width="stretch")
            st.plotly_chart(rfm_charts.plot_migration_sankey(transitions, measure), width="stretch")
            labels = ["Any segment", *migration.order_segments(scheme)]
            left, right = st.columns(2)
            segment_from = left.selectbox("Moved from", labels)
            segment_to = right.selectbox("Moved to", labels)
            movers = migration.list_movers(
                moved,
                None if segment_from == labels[0] else segment_from,
                None if segment_to == labels[0] else segment_to,
            )
            st.download_button(
                f"Download {len(movers):,} customers who moved (CSV)",
                export.to_csv_bytes(movers),
                file_name=f"{selection.dataset}-moved-{date_from}-{date_to}.csv",
                mime="text/csv",
                on_click="ignore",
            )

    with backtest_tab:
        if backtest_tab.open:
            days = st.number_input("Follow-up period (days)", 1, 730, backtest.DEFAULT_HORIZON_DAYS)
            default_as_of = max(first, last - dt.timedelta(days=int(days)))
            as_of = st.date_input(
                "Segments as of", default_as_of, first, last, key="backtest_as_of"
            )
            result = ui_studio.get_backtest(selection, scoring, as_of, int(days))
            ui_studio.show_backtest_notes(result)
            st.plotly_chart(rfm_charts.plot_repeat_rates(result.table), width="stretch")
            st.dataframe(
                result.table,
                hide_index=True,
                width="stretch",
                column_config=ui_studio.backtest_column_config(currency),
            )

    with clusters_tab:
        if clusters_tab.open:
            st.caption(
                "k-means on log-scaled, standardised R, F and M; k from 2 to 8 chosen by the "
                "silhouette on at most 20,000 customers. The same data gives the same clusters."
            )
            clusters = ui_studio.get_clusters(base, cuts, scheme, st.button("Find clusters"))
            if clusters is not None:
                st.metric("Clusters (best silhouette)", clusters.k)
                st.dataframe(clusters.silhouettes, hide_index=True)
                st.dataframe(
                    clusters.centres,
                    hide_index=True,
                    width="stretch",
                    column_config=ui_studio.centre_column_config(currency),
                )
                st.markdown("**Customers per RFM segment and cluster**")
                st.dataframe(clusters.crosstab, width="stretch")
                st.download_button(
                    "Download customers with their cluster (CSV)",
                    export.to_csv_bytes(clusters.members),
                    file_name=f"{selection.dataset}-clusters.csv",
                    mime="text/csv",
                    on_click="ignore",
                )

    with schemes_tab:
        if schemes_tab.open:
            st.markdown(f"**{scheme.name}.** {scheme.rule}")
            table = scheme_io.tabulate_scheme(scheme)
            edited = st.data_editor(
                table,
                hide_index=True,
                width="stretch",
                key=f"scheme_map_{scheme.key}",
                disabled=[table.columns[0]] if "codes" not in table else False,
                num_rows="fixed" if "codes" not in table else "dynamic",
            )
            st.download_button(
                "Download this scheme (JSON)",
                scheme_io.scheme_to_json(scheme),
                file_name=f"{scheme.key.replace(':', '-')}.json",
                mime="application/json",
                on_click="ignore",
            )
            uploaded = st.file_uploader("Upload a scheme (JSON)", type="json")
            candidate = (
                ui_studio.read_scheme_upload(uploaded)
                if uploaded is not None
                else ui_studio.read_scheme_edits(edited, table, scheme)
            )
            if candidate is not None:
                ui_studio.offer_to_save(candidate)
