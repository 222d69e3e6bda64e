"""Data: load store exports into a dataset, see what each file gave, delete a dataset."""

import streamlit as st

from dashboard import ingest, store, ui

st.title("Data")
st.caption(
    "Load your store's exports (Shopify orders and customers, or any orders CSV/Parquet) into a "
    "dataset; every row that could not be loaded is listed with its reason."
)

workspace = ui.workspace()
selection = st.session_state.get("selection")
current = selection.dataset if selection else None

with ui.friendly_errors():
    if current:
        overview = selection.overview
        st.subheader(f"Dataset: {current}")
        cols = st.columns(4)
        cols[0].metric("Orders", f"{overview.orders:,}")
        cols[1].metric("Customers with orders", f"{overview.customers_in_orders:,}")
        cols[2].metric("Customers file rows", f"{overview.customers_file_rows:,}")
        cols[3].metric("Orders without a customer", f"{overview.orders_without_customer:,}")
        st.caption(
            f"Orders from {overview.first_order_on:%d %b %Y} to {overview.last_order_on:%d %b %Y}"
            f" · currency {', '.join(overview.currencies) or 'not given'}"
        )
        with store.open_for_read(workspace, current) as backend:
            history = store.read_ingest_history(backend)
        st.markdown("**Files loaded**")
        st.dataframe(history, hide_index=True, width="stretch")

    st.subheader("Load a file")
    target_choice = st.radio(
        "Into",
        ([f"Dataset '{current}'"] if current else []) + ["A new dataset"],
        horizontal=True,
    )
    if target_choice == "A new dataset":
        target = st.text_input("New dataset name", placeholder="my-store", max_chars=64)
    else:
        target = current
    uploaded = st.file_uploader(
        "Export file", type=["csv", "tsv", "txt", "parquet"], accept_multiple_files=False
    )
    if uploaded is not None and target:
        store.validate_dataset_name(target)
        path = ui.save_upload(uploaded)
        headers = ingest.read_headers(path)
        detected = ingest.detect_format(headers)
        formats = [f for f in ingest.FORMATS if f != "auto"]
        file_format = st.selectbox(
            "Format", formats, index=formats.index(detected), help="Detected from the header."
        )
        mapping = ui.mapping_editor(headers) if file_format == "generic" else None
        if st.button("Load file", type="primary"):
            with st.status(f"Loading {uploaded.name}…", expanded=True) as status:
                bar = st.progress(0.0)
                report = ingest.ingest_file(
                    workspace,
                    target,
                    path,
                    file_format=file_format,
                    mapping=mapping,
                    display_name=uploaded.name,
                    progress=lambda fraction, message: bar.progress(fraction, text=message),
                )
                status.update(label=report.summary(), state="complete")
            st.session_state["last_report"] = report
            st.session_state["dataset"] = target
            st.rerun()
    if st.session_state.get("last_report") is not None:
        ui.show_report(st.session_state["last_report"])

    if current:
        st.subheader("Delete a dataset")
        confirm = st.checkbox(f"Yes, delete the dataset '{current}' and everything loaded into it")
        if st.button("Delete dataset", disabled=not confirm):
            store.delete_dataset(workspace, current)
            st.session_state.pop("dataset", None)
            st.session_state.pop("last_report", None)
            st.rerun()
